"""The floor: a bare Textual app that paints a Header, a DataTable with the
same rows as the Integrations list, and a Footer. Nothing faster can show a
table in Textual, so the program's first paint is compared with this one."""

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

COLUMNS = ("Integration", "Category", "Enabled", "Blueprints", "Tokens", "Webhooks")
NAMES = (
    ("Salesforce", "Sales and CRM"),
    ("HubSpot", "Sales and CRM"),
    ("Microsoft Dynamics 365", "Sales and CRM"),
    ("Pipedrive", "Sales and CRM"),
    ("Upsales", "Sales and CRM"),
    ("Lime CRM", "Sales and CRM"),
    ("Membrain", "Sales and CRM"),
    ("Slack", "Communication"),
    ("Zapier", "Workflow"),
    ("Power Automate", "Workflow"),
    ("Custom integration", "Custom"),
)


class Floor(App[None]):
    TITLE = "floor"
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        table.add_rows(
            (name, category, "2026-11-28 09:30 by maria", "1", "managed", "1")
            for name, category in NAMES
        )
        table.focus()


if __name__ == "__main__":
    Floor().run()
