"""Request and response models of the integration API (its OpenAPI schema).

Bodies are strict: unknown fields are refused (422), ids are JSON integers (not
strings, not booleans), values are JSON strings. The rules on values (mapping,
required, lengths) are the store's (``store/contracts.py``), in its words.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from store.validate import MAX_ID

Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID, examples=[12])]


class Problem(BaseModel):
    """Every error: its HTTP status, a short title and what went wrong."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": 401,
                    "title": "Unauthorized",
                    "detail": "This API token 'ERP sync' was revoked on 2026-11-28 09:30 UTC.",
                }
            ]
        }
    )
    status: int
    title: str
    detail: str


class FieldProblem(BaseModel):
    field: str = Field(examples=["values.Amount"])
    message: str = Field(examples=["A value for the required field 'Amount' (Orders) is needed."])


class ValidationProblem(Problem):
    """422: each problem with the field it concerns (``values.<key>`` for a value)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": 422,
                    "title": "Unprocessable Content",
                    "detail": "A value for the required field 'Amount' (Orders) is needed.",
                    "errors": [
                        {
                            "field": "values.Amount",
                            "message": "A value for the required field 'Amount' (Orders) is "
                            "needed.",
                        }
                    ],
                }
            ]
        }
    )
    errors: list[FieldProblem]


class Empty(BaseModel):
    """``{}``"""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})


class BlueprintFieldOut(BaseModel):
    id: int
    name: str
    description: str
    mapping_required: bool


class BlueprintOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "name": "Orders",
                    "description": "Orders from the shop",
                    "fields": [
                        {"id": 7, "name": "Amount", "description": "", "mapping_required": True},
                        {"id": 8, "name": "Customer", "description": "", "mapping_required": False},
                    ],
                }
            ]
        }
    )
    id: int
    name: str
    description: str
    fields: list[BlueprintFieldOut]


class BlueprintList(BaseModel):
    data: list[BlueprintOut]


class DataFieldOut(BaseModel):
    id: int
    name: str
    description: str
    default_value: str


class MappingOut(BaseModel):
    """A field of one of this integration's blueprints flowing into a data field."""

    blueprint_id: int
    blueprint_field_id: int
    blueprint_field_name: str
    data_field_id: int


class PlaybookOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 5,
                    "name": "Sales contract",
                    "description": "",
                    "blueprint_ids": [3],
                    "data_fields": [
                        {"id": 21, "name": "Amount", "description": "", "default_value": ""},
                        {"id": 22, "name": "Currency", "description": "", "default_value": "EUR"},
                    ],
                    "mappings": [
                        {
                            "blueprint_id": 3,
                            "blueprint_field_id": 7,
                            "blueprint_field_name": "Amount",
                            "data_field_id": 21,
                        }
                    ],
                }
            ]
        }
    )
    id: int
    name: str
    description: str
    blueprint_ids: list[int]
    data_fields: list[DataFieldOut]
    mappings: list[MappingOut]


class PlaybookList(BaseModel):
    data: list[PlaybookOut]


Values = Annotated[
    dict[str, Annotated[str, Field(strict=True)]],
    Field(
        description="Blueprint field name (or id, as a string of digits) -> its text. At most "
        "300 values, each at most 10,000 characters; line breaks and tabs are kept, other "
        "control characters refused.",
        examples=[{"Amount": "1200.00", "Customer": "Northwind Traders"}],
    ),
]


class ContractCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "playbook_id": 5,
                    "name": "Order 1001",
                    "values": {"Amount": "1200.00", "Customer": "Northwind Traders"},
                }
            ]
        },
    )
    playbook_id: Id
    name: Annotated[str, Field(strict=True, examples=["Order 1001"])]
    values: Values = Field(default_factory=dict)


class ContractPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"values": {"Customer": "Contoso"}}]},
    )
    name: Annotated[str | None, Field(strict=True, examples=["Order 1001 (revised)"])] = None
    values: Values | None = None


class ContractDataField(BaseModel):
    id: int | None = Field(description="The data field (null once it was deleted)")
    name: str
    value: str
    source: str = Field(
        description="'<integration> / <blueprint> / <field>' that sent it, or 'default'",
        examples=["Custom integration / Orders / Amount"],
    )
    source_field_id: int | None = Field(description="The blueprint field, null for a default")


class ContractOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 41,
                    "name": "Order 1001",
                    "state": "draft",
                    "playbook_id": 5,
                    "playbook_name": "Sales contract",
                    "created_at": "2026-11-28T09:30:00Z",
                    "updated_at": "2026-11-28T09:30:00Z",
                    "data_fields": [
                        {
                            "id": 21,
                            "name": "Amount",
                            "value": "1200.00",
                            "source": "Custom integration / Orders / Amount",
                            "source_field_id": 7,
                        },
                        {
                            "id": 22,
                            "name": "Currency",
                            "value": "EUR",
                            "source": "default",
                            "source_field_id": None,
                        },
                    ],
                }
            ]
        }
    )
    id: int
    name: str
    state: Literal["draft", "published", "signed", "declined"]
    playbook_id: int | None
    playbook_name: str
    created_at: datetime
    updated_at: datetime
    data_fields: list[ContractDataField]
