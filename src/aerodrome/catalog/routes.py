"""Catalog routes: `/products`, `/componenttypes` and `/components`."""

from __future__ import annotations

from fastapi import APIRouter

from aerodrome.api import API_PREFIX
from aerodrome.api.crud import register_crud
from aerodrome.catalog import schemas
from aerodrome.catalog.service import component_service, componenttype_service, product_service

router = APIRouter(prefix=API_PREFIX, tags=["catalog"])

register_crud(
    router,
    product_service,
    create_schema=schemas.ProductCreate,
    update_schema=schemas.ProductUpdate,
)
register_crud(
    router,
    componenttype_service,
    create_schema=schemas.ComponentTypeCreate,
    update_schema=schemas.ComponentTypeUpdate,
)
register_crud(
    router,
    component_service,
    create_schema=schemas.ComponentCreate,
    update_schema=schemas.ComponentUpdate,
)
