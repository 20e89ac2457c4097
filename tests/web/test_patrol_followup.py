"""The patrol page after a save, as an officer uses it (phone-sized Chromium): the form starts empty again (the
category too), the notice follows the report, the officer sees what became of it (whistled, reported in) and
what the intake found (a likely repeat); refused photos are each told in Chinese; a poor fix needs a reason;
signing out with unsent reports asks first, and the next officer on the phone neither sends nor sees them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gis_enforcement.admin.users import add_user
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.storage.engine import make_engine
from tests.web.conftest import CATEGORY, PASSWORD, Site, sign_in
from tests.web.test_patrol_page import fill_report, jpeg_with_exif, patrol_signed_in, phone


def test_after_a_save_the_officer_follows_the_report(browser: Any, site: Site) -> None:
    context = phone(browser, site)
    page = patrol_signed_in(context, site)
    fill_report(page, None, f"第一次 {uuid.uuid4().hex[:6]}")
    page.wait_for_selector("#report-msg:has-text('已上报')", timeout=20_000)
    first = page.wait_for_selector("#queue li[data-state=accepted]", timeout=20_000).get_attribute("data-id")
    # the category went with the rest of the form: a report without choosing one is not filed under the last
    assert page.query_selector("#cat-list button[aria-pressed=true]") is None
    page.click("#locate")
    page.wait_for_function("() => /±\\d+ m/.test(document.getElementById('fix').textContent)")
    page.fill("#description", "不知道是什么类别")
    page.click("#save")
    page.wait_for_selector("#report-msg:has-text('请选择问题类别')")
    # the same spot again: the likely repeat of the first, said on the entry
    fill_report(page, None, f"第二次 {uuid.uuid4().hex[:6]}")
    page.wait_for_selector("#queue li[data-state=accepted] >> nth=1", timeout=20_000)
    page.wait_for_selector("#queue li:first-child :text('可能与')", timeout=20_000)
    assert "的上报重复（0 米）" in page.inner_text("#queue li:first-child")

    # the township whistles, the lead reports in: the officer's next sync shows it
    with site.client("township_dispatcher") as c:
        r = c.post(f"/api/v1/incidents/{first}/whistle", json={"mode": "township", "whistler": site.township})
        assert r.status_code == 201, r.text
        lead = next(a for a in r.json()["assignments"] if a["role"] == "lead")
    with site.client("department_officer") as c:
        lon, lat = site.point
        r = c.post(f"/api/v1/assignments/{lead['id']}/report-in", json={"lon": lon, "lat": lat, "accuracy_m": 5})
        assert r.status_code == 200, r.text
    page.click("#sync")
    entry = page.wait_for_selector(f"#queue li[data-id='{first}'] .course:has-text('已报到')", timeout=20_000)
    text = entry.inner_text()
    assert text.startswith("已吹哨 · ") and (lead["department_name"] or lead["department"]) in text, text
    context.close()


def test_every_refused_photo_is_told_and_a_poor_fix_needs_a_reason(browser: Any, site: Site, tmp_path: Path) -> None:
    context = phone(browser, site, accuracy=400.0)
    page = patrol_signed_in(context, site)
    fake, huge, good = tmp_path / "fake.jpg", tmp_path / "huge.jpg", tmp_path / "sand1.jpg"
    fake.write_text("not a photo")
    huge.write_bytes(jpeg_with_exif() + b"\0" * 15_100_000)
    good.write_bytes(jpeg_with_exif())
    page.fill("#cat-search", CATEGORY)
    page.click(f"#cat-list button[data-code='{CATEGORY}']")
    page.click("#locate")
    page.wait_for_function("() => /±\\d+ m/.test(document.getElementById('fix').textContent)")
    page.set_input_files("#photos", [str(fake), str(huge), str(good)])
    page.wait_for_selector("#report-msg:has-text('照片 huge.jpg 超过 15 MB')")   # told before saving
    page.check("#confirm-poor")
    page.click("#save")
    page.wait_for_selector("#report-msg:has-text('请在情况描述中说明原因')")
    assert page.query_selector("#queue li[data-state]") is None
    page.fill("#description", "信号差，在河滩下方")
    page.click("#save")
    page.wait_for_selector("#report-msg:has-text('2 张照片未上传')", timeout=30_000)
    told = page.inner_text("#queue li:first-child .notice.bad")
    assert "照片 fake.jpg 不是图片" in told and "照片 huge.jpg 超过 15 MB，未上传" in told, told
    assert "(file)" not in told
    context.close()


def test_sign_out_with_unsent_reports_asks_and_keeps_them_for_their_author(browser: Any, site: Site,
                                                                            catalog: Catalog) -> None:
    other = f"patrol_{uuid.uuid4().hex[:6]}"
    engine = make_engine(site.database_url)
    try:
        with Session(engine) as session:
            add_user(session, catalog=catalog, username=other, password=PASSWORD, role="patrol",
                     unit=site.township, display_name=other)
            session.commit()
    finally:
        engine.dispose()
    context = phone(browser, site)
    page = patrol_signed_in(context, site)
    context.set_offline(True)
    text = f"离线保存 {uuid.uuid4().hex[:6]}"
    fill_report(page, None, text)
    mine = page.wait_for_selector("#queue li[data-state=queued]").get_attribute("data-id")
    asked: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.click("#signout")
    page.wait_for_timeout(300)
    assert asked and "还有 1 条上报未发送" in asked[0], asked
    assert page.is_visible("#work")   # not signed out
    page.once("dialog", lambda d: answer(d, True))
    page.click("#signout")
    page.wait_for_selector("#signin-card:not(.hidden)")
    context.set_offline(False)
    sign_in(page, other)
    page.wait_for_selector(f"#cat-list button[data-code='{CATEGORY}']")
    page.click("#sync")
    page.wait_for_timeout(1500)
    assert page.query_selector(f"#queue li[data-id='{mine}']") is None   # not seen by the other officer
    with site.client("supervisor") as c:
        assert c.get(f"/api/v1/incidents/{mine}").status_code == 404    # nor sent with their sign-in
    context.close()
