"""Request and response bodies (pydantic v2): Create / Update / Public per resource."""
