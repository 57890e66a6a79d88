"""HTML forms as typed, read by routes as `Annotated[Model, Form()]`."""

from __future__ import annotations

from pydantic import BaseModel, PrivateAttr


class FormModel(BaseModel):
    """A form's fields as typed (strings; a field absent from the request keeps its default)
    and, once a service has checked them, `errors` by field name: never read from the
    request."""

    _errors: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def errors(self) -> dict[str, str]:
        return self._errors

    @errors.setter
    def errors(self, value: dict[str, str]) -> None:
        self._errors = value
