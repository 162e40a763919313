"""Branding: WCAG AA contrast of the colour pairs, logo URLs, texts, PATCH merging."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.profiles import service
from services.profiles.domain.branding import check_contrast, contrast_ratio
from platform_common.errors import InvalidInput
from services.profiles.domain.requests import TenantCreate, TenantPatch
from tests.unit.profiles.factories import NOW, who
from tests.unit.profiles.memory_store import MemoryStore

OPERATOR = who("op", "land", "operator")
ADMIN = who("admin", "coesfeld", "tenant_admin")
PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAghI2VgAAAABJRU5ErkJggg=="


def test_contrast_ratios_follow_wcag():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_low_contrast_names_the_field_and_the_ratio():
    check_contrast({"text_color": "#767676", "background_color": "#ffffff"})
    with pytest.raises(InvalidInput) as caught:
        check_contrast({"text_color": "#777777", "background_color": "#ffffff"})
    (detail,) = caught.value.details
    assert detail["field"] == "branding.text_color" and "4.48:1" in detail["message"]
    assert "4.48:1" in caught.value.message
    # The background changed: it is the field to blame; primary is checked against it too.
    with pytest.raises(InvalidInput) as caught:
        check_contrast({"primary_color": "#005ca9", "background_color": "#333333"},
                       changed={"background_color"})
    assert [d["field"] for d in caught.value.details] == ["branding.background_color"] * 2


def test_logo_may_be_a_url_or_embedded_image_data():
    for logo in ("https://stadt.example/logo.svg", PIXEL):
        TenantPatch.model_validate({"branding": {"logo_url": logo}})
    for bad in ("javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD4=",
                "data:image/png;base64," + "A" * 100_001):
        with pytest.raises(ValidationError):
            TenantPatch.model_validate({"branding": {"logo_url": bad}})


async def test_patch_merges_branding_and_refuses_unreadable_colours():
    store = MemoryStore()
    await service.create_tenant(store=store, identity=OPERATOR, now=NOW,
                                request=TenantCreate.model_validate({
                                    "id": "coesfeld", "name": "Coesfeld",
                                    "center": {"lat": 51.9, "lon": 7.2},
                                    "branding": {"primary_color": "#00843d"}}))
    with pytest.raises(InvalidInput):
        await service.create_tenant(store=store, identity=OPERATOR, now=NOW,
                                    request=TenantCreate.model_validate({
                                        "id": "pale", "name": "Pale",
                                        "center": {"lat": 51.9, "lon": 7.2},
                                        "branding": {"primary_color": "#ffff00"}}))
    texts = {"welcome_text": {"de": "Willkommen", "en": "Welcome"},
             "impressum": {"de": "Stadt Coesfeld", "en": "City of Coesfeld"},
             "datenschutz": {"de": "Datenschutz", "en": "Privacy"}, "logo_url": PIXEL}
    tenant = await service.update_tenant(store=store, identity=ADMIN, tenant_id="coesfeld",
                                         patch=TenantPatch.model_validate({"branding": texts}),
                                         expected_version=1, now=NOW)
    assert tenant.branding.primary_color == "#00843d"  # kept: not named in the PATCH
    assert tenant.branding.welcome_text.en == "Welcome" and tenant.branding.logo_url == PIXEL
    assert store.events[-1].data["branding"]["impressum"]["de"] == "Stadt Coesfeld"
    with pytest.raises(InvalidInput) as caught:
        await service.update_tenant(
            store=store, identity=ADMIN, tenant_id="coesfeld", expected_version=2, now=NOW,
            patch=TenantPatch.model_validate({"branding": {"background_color": "#00843d",
                                                           "text_color": "#000000"}}))
    # Black on that green is 4.37:1; the primary colour on itself 1:1 (the background is blamed).
    assert [d["field"] for d in caught.value.details] == ["branding.text_color",
                                                          "branding.background_color"]
    cleared = await service.update_tenant(
        store=store, identity=ADMIN, tenant_id="coesfeld", expected_version=2, now=NOW,
        patch=TenantPatch.model_validate({"branding": {"logo_url": None}}))
    assert cleared.branding.logo_url is None and cleared.branding.welcome_text.de == "Willkommen"
