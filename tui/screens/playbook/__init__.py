"""A playbook's page (page.py) and its tabs, one module each: data_fields.py,
connections.py, mappings.py; tab.py holds what they share."""

from __future__ import annotations

from tui.screens.playbook.connections import ConnectionsTab
from tui.screens.playbook.data_fields import DataFieldsTab
from tui.screens.playbook.mappings import MappingsTab
from tui.screens.playbook.page import TABS, PlaybookScreen

__all__ = ["TABS", "ConnectionsTab", "DataFieldsTab", "MappingsTab", "PlaybookScreen"]
