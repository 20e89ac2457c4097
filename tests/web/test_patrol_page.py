"""The patrol page on a phone-sized Chromium: a case filed offline survives the page being closed, is sent
once when the network returns, with its photo; a report the server refuses shows why and can be corrected."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from gis_enforcement.domain.enums import LocationFlag
from tests.web.conftest import CATEGORY, ConsoleErrors, Site, sign_in

PHONE = {"width": 360, "height": 740}


def jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (96, 64), (40, 120, 60))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2026:05:12 23:05:10"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (40.0, 8.0, 30.0), "E", (117.0, 7.0, 12.5)
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def phone(browser: Any, site: Site, *, accuracy: float = 8.0, lon_lat: tuple[float, float] | None = None) -> Any:
    lon, lat = lon_lat or site.point
    return browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                               geolocation={"longitude": lon, "latitude": lat, "accuracy": accuracy},
                               permissions=["geolocation"], base_url=site.base_url, service_workers="allow")


def patrol_signed_in(context: Any, site: Site, errors: ConsoleErrors | None = None,
                     path: str = "/app/patrol") -> Any:
    """A new page of ``context`` on the patrol page, the patrol officer signed in and the categories listed;
    watched by ``errors`` when given."""
    page = context.new_page()
    if errors is not None:
        errors.watch(page)
    page.goto(path)
    sign_in(page, site.users["patrol"])
    page.wait_for_selector(f"#cat-list button[data-code='{CATEGORY}']")
    return page


def fill_report(page: Any, photo: Path | None, text: str) -> str:
    """Fill the form and save; returns what the page showed of the photo's EXIF (empty without a photo)."""
    page.fill("#cat-search", CATEGORY)
    page.click(f"#cat-list button[data-code='{CATEGORY}']")
    page.click("#locate")
    page.wait_for_function("() => /±\\d+ m/.test(document.getElementById('fix').textContent)")
    if photo is not None:
        page.set_input_files("#photos", str(photo))
        page.wait_for_selector("#thumbs figcaption.exif")
    caption = page.inner_text("#thumbs figcaption.exif") if photo is not None else ""
    page.fill("#description", text)
    page.click("#save")
    return str(caption)


def stored(site: Site, incident_id: str) -> dict[str, Any]:
    with site.client("supervisor") as c:
        r = c.get(f"/api/v1/incidents/{incident_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


def count_with_description(site: Site, text: str) -> int:
    with site.client("supervisor") as c:
        feats = c.get("/api/v1/incidents", params={"limit": 1000}).json()["features"]
    return sum(1 for f in feats if f["properties"]["description"] == text)


def test_a_case_filed_offline_is_kept_when_the_page_closes_and_sent_once_online(
        browser: Any, site: Site, artifacts: Path, tmp_path: Path) -> None:
    errors = ConsoleErrors()
    context = phone(browser, site)
    page = patrol_signed_in(context, site, errors)
    # the service worker has kept the page and its files (it is what opens the page offline below)
    page.wait_for_function("async () => !!(await navigator.serviceWorker.getRegistration('/app/'))?.active",
                           timeout=15_000)
    page.screenshot(path=str(artifacts / "patrol-1-signed-in.png"), full_page=True)

    context.set_offline(True)
    page.wait_for_function("() => document.getElementById('net').classList.contains('off')")
    photo = tmp_path / "site.jpg"
    photo.write_bytes(jpeg_with_exif())
    text = f"河边小作坊冒黑烟 {uuid.uuid4().hex[:6]}"
    caption = fill_report(page, photo, text)
    assert "2026-05-12 23:05:10" in caption and "117.12014" in caption and "40.14167" in caption, caption
    item = page.wait_for_selector("#queue li[data-state=queued]")
    incident_id = item.get_attribute("data-id")
    page.screenshot(path=str(artifacts / "patrol-2-queued-offline.png"), full_page=True)
    page.close()

    # offline still: the page opens from the service worker and the report is still on the device
    page = errors.watch(context.new_page())
    page.goto("/app/patrol")
    page.wait_for_selector(f"#queue li[data-id='{incident_id}'][data-state=queued]")
    assert count_with_description(site, text) == 0

    context.set_offline(False)
    page.wait_for_selector(f"#queue li[data-id='{incident_id}'][data-state=accepted]", timeout=20_000)
    page.wait_for_function("id => !document.querySelector(`#queue li[data-id='${id}']`).textContent"
                           ".includes('照片待发送')", arg=incident_id, timeout=20_000)
    page.screenshot(path=str(artifacts / "patrol-3-accepted.png"), full_page=True)
    page.click("#sync")   # a second pass sends nothing again
    page.wait_for_timeout(500)

    case = stored(site, incident_id)
    assert case["properties"]["category"] == CATEGORY
    assert case["properties"]["township_code"] == site.township
    assert case["properties"]["reporter"] == site.users["patrol"]
    assert count_with_description(site, text) == 1
    with site.client("supervisor") as c:
        photos = c.get(f"/api/v1/incidents/{incident_id}/photos").json()
    assert len(photos["data"] if isinstance(photos, dict) else photos) == 1
    no_hscroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_hscroll
    context.close()
    assert errors == []


def test_a_rough_fix_needs_confirming_and_a_refused_report_can_be_corrected(
        browser: Any, site: Site, artifacts: Path) -> None:
    errors = ConsoleErrors()
    context = phone(browser, site, accuracy=400.0)
    page = errors.watch(context.new_page())
    # the phone's clock is two days fast: the server refuses an observation in the future
    page.clock.install(time=datetime.now(UTC) + timedelta(days=2))
    page.goto("/app/patrol")
    sign_in(page, site.users["patrol"])
    page.wait_for_selector(f"#cat-list button[data-code='{CATEGORY}']")
    text = f"精度差的上报 {uuid.uuid4().hex[:6]}"
    fill_report(page, None, text)
    assert page.is_visible("#confirm-row")
    assert "±400" in page.inner_text("#fix-warn")
    assert page.query_selector("#queue li[data-state]") is None   # not saved without the confirmation
    page.check("#confirm-poor")
    page.click("#save")
    item = page.wait_for_selector("#queue li[data-state=rejected]", timeout=20_000)
    reason = item.inner_text()
    # said in Chinese from the refusal's code (observed_at:future) and its values (the clock skew allowed)
    assert "发现时间晚于服务器当前时间（允许误差 10 分钟）：请检查手机的日期和时间" in reason, reason
    assert "is in the future" not in reason, reason
    page.screenshot(path=str(artifacts / "patrol-4-rejected.png"), full_page=True)
    # the English page keeps the server's own words, said again on the switch (the refusal is kept as answered)
    page.click("#lang")
    page.wait_for_selector("#queue li[data-state=rejected] .notice.bad:has-text('is in the future (observed_at)')")
    page.click("#lang")
    page.wait_for_selector("#queue li[data-state=rejected] .notice.bad:has-text('发现时间晚于服务器当前时间')")

    incident_id = item.get_attribute("data-id")
    page.clock.set_system_time(datetime.now(UTC))
    page.click(f"#queue li[data-id='{incident_id}'] button >> nth=0")   # correct and send again
    page.click("#locate")
    page.wait_for_function("() => /±\\d+ m/.test(document.getElementById('fix').textContent)")
    page.check("#confirm-poor")
    page.click("#save")
    page.wait_for_selector(f"#queue li[data-id='{incident_id}'][data-state=accepted]", timeout=20_000)
    case = stored(site, incident_id)
    assert LocationFlag.LOW_ACCURACY.value in case["properties"]["flags"]
    assert case["properties"]["accuracy_m"] == 400
    assert count_with_description(site, text) == 1
    context.close()
    # the browser logs the refused POST itself; nothing else may go wrong
    assert [e for e in errors if "status of 422" not in e] == [] and len(errors) == 1, errors


def test_a_patrol_track_is_recorded_and_uploaded(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    context = phone(browser, site)
    page = patrol_signed_in(context, site, errors, "/app/patrol?track_s=1")  # a position a second: several
    page.click("#patrol")
    try:
        page.wait_for_function("() => /: [3-9]/.test(document.getElementById('patrol-state').textContent)",
                               timeout=15_000)
    except Exception:
        raise AssertionError(f"{page.inner_text('#patrol-state')} {errors}") from None
    track_id = page.evaluate("localStorage.getItem('gise.track')")
    page.click("#patrol")
    page.click("#sync")
    with site.client("patrol") as c:
        for _ in range(50):
            r = c.get(f"/api/v1/tracks/{track_id}")
            if r.status_code == 200:
                break
            page.wait_for_timeout(200)
        assert r.status_code == 200, r.text
        coords = r.json()["geometry"]["coordinates"]
    assert len(coords) >= 3
    context.close()
    assert errors == []


def test_a_refused_track_position_is_left_out_and_the_rest_uploaded(browser: Any, site: Site) -> None:
    """A position the server refuses (here a fix 85 km off, and one stamped a day ahead by a phone clock) is left
    out of the patrol's track, the rest is uploaded, and the officer is told on the patrol line."""
    errors = ConsoleErrors()
    context = phone(browser, site)
    page = patrol_signed_in(context, site, errors, "/app/patrol?track_s=1")
    page.click("#patrol")
    page.wait_for_function("() => /: [3-9]/.test(document.getElementById('patrol-state').textContent)",
                           timeout=15_000)
    track_id = page.evaluate("localStorage.getItem('gise.track')")
    lon, lat = site.point
    ahead = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
    page.evaluate("""([id, lon, lat, ahead]) => Store.update("tracks", id, (x) => {
        const last = x.points[x.points.length - 1];
        x.points.splice(1, 0, [lon + 1.0, lat, 5, x.points[1][3]]);
        x.points.push([last[0], last[1], 5, ahead]);
    })""", [track_id, lon, lat, ahead])
    page.click("#sync")
    page.wait_for_function(
        "() => document.getElementById('patrol-state').textContent.includes('已略去 2 个异常轨迹点')", timeout=15_000)
    with site.client("patrol") as c:
        r = c.get(f"/api/v1/tracks/{track_id}")
        assert r.status_code == 200, r.text
        coords = r.json()["geometry"]["coordinates"]
    assert len(coords) >= 3 and all(abs(x - lon) < 0.01 for x, _ in coords)
    context.close()
    assert [e for e in errors if "422" not in e] == []


def test_a_location_failure_stays_visible_with_its_reason(browser: Any, site: Site, artifacts: Path) -> None:
    errors = ConsoleErrors()
    # the phone's user has not allowed the page the position: the browser denies it
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  base_url=site.base_url)
    page = errors.watch(context.new_page())
    page.goto("/app/patrol")
    sign_in(page, site.users["patrol"])
    page.wait_for_selector(f"#cat-list button[data-code='{CATEGORY}']")
    page.click("#locate")
    warn = page.wait_for_selector("#fix-warn .notice.bad")
    reason = warn.inner_text()
    assert reason.startswith("定位权限被拒绝") and "允许本页面使用位置" in reason, reason  # what happened, what to do
    assert page.inner_text("#fix") == "定位失败"
    # it stays while the officer goes on filling the form: choosing a category, trying to save
    page.fill("#cat-search", CATEGORY)
    page.click(f"#cat-list button[data-code='{CATEGORY}']")
    page.fill("#description", "河道旁堆放垃圾")
    page.click("#save")
    page.wait_for_selector("#report-msg .notice.bad:has-text('请先获取定位')")
    assert page.is_visible("#fix-warn .notice.bad") and page.inner_text("#fix-warn") == reason
    assert page.inner_text("#fix") == "定位失败"
    assert page.query_selector("#queue li[data-state]") is None
    page.screenshot(path=str(artifacts / "patrol-5-location-denied.png"), full_page=True)
    # allowed and asked again, the position replaces the failure
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"longitude": site.point[0], "latitude": site.point[1], "accuracy": 8})
    page.click("#locate")
    page.wait_for_function("() => /±\\d+ m/.test(document.getElementById('fix').textContent)")
    assert page.query_selector("#fix-warn .notice") is None
    context.close()
    assert errors == []


# getCurrentPosition never answers (a phone busy with the patrol track's watch): only the watch gives positions
_CURRENT_NEVER_ANSWERS = """
Geolocation.prototype.getCurrentPosition = function () { window.__asked = (window.__asked || 0) + 1; };
"""


def test_locate_during_a_patrol_uses_the_fresh_watch_position(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    lon, lat = site.point[0] + 0.001, site.point[1] + 0.0005
    context = phone(browser, site, accuracy=12.0, lon_lat=(lon, lat))
    context.add_init_script(_CURRENT_NEVER_ANSWERS)
    page = patrol_signed_in(context, site, errors, "/app/patrol?track_s=1")
    page.click("#patrol")  # the track's watch starts
    page.wait_for_function("() => /: [1-9]/.test(document.getElementById('patrol-state').textContent)",
                           timeout=15_000)
    page.click("#locate")
    # at once, from the watch: not after getCurrentPosition's 20 s timeout (here it would never come)
    page.wait_for_function("() => /±\\d+ m/.test(document.getElementById('fix').textContent)", timeout=3_000)
    assert page.inner_text("#fix") == f"{lon:.6f}, {lat:.6f} · 精度 ±12 m"
    assert page.evaluate("window.__asked || 0") == 0
    page.click("#patrol")
    context.close()
    assert errors == []


# the watch's last position is stale (a minute old, elsewhere); getCurrentPosition answers with the browser's
_STALE_WATCH = """
Geolocation.prototype.watchPosition = function (ok) {
  const coords = { longitude: 116.0, latitude: 39.0, accuracy: 5, altitude: null, altitudeAccuracy: null,
                   heading: null, speed: null };
  return setInterval(() => ok({ coords, timestamp: Date.now() - 60000 }), 200);
};
Geolocation.prototype.clearWatch = function (id) { clearInterval(id); };
"""


def test_locate_during_a_patrol_asks_again_when_the_watch_position_is_stale(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    context = phone(browser, site, accuracy=7.0)
    context.add_init_script(_STALE_WATCH)
    page = patrol_signed_in(context, site, errors, "/app/patrol?track_s=1")
    page.click("#patrol")
    page.wait_for_function("() => /: [1-9]/.test(document.getElementById('patrol-state').textContent)",
                           timeout=15_000)
    page.click("#locate")
    page.wait_for_function("() => /±\\d+ m/.test(document.getElementById('fix').textContent)")
    assert page.inner_text("#fix") == f"{site.point[0]:.6f}, {site.point[1]:.6f} · 精度 ±7 m"
    page.click("#patrol")
    context.close()
    assert errors == []


def test_a_patrol_unsure_of_the_category_files_it_for_the_township_to_classify(browser: Any, site: Site) -> None:
    """类别待定: the lists' placeholder is offered last, whatever was used lately, says what happens to such a
    report, and is filed like any other — to the township's desk, not to a department."""
    context = phone(browser, site)
    try:
        page = patrol_signed_in(context, site)
        codes = page.eval_on_selector_all("#cat-list button[data-code]", "bs => bs.map((b) => b.dataset.code)")
        assert codes[-1] == "OTH-00" and codes.count("OTH-00") == 1
        assert "unsure" in (page.get_attribute("#cat-list button[data-code='OTH-00']", "class") or "")
        page.click("#cat-list button[data-code='OTH-00']")
        assert "街乡" in page.inner_text("#cat-info") and "主责" not in page.inner_text("#cat-info")
        page.click("#locate")
        page.wait_for_function("() => /±\\d+ m/.test(document.getElementById('fix').textContent)")
        text = f"河边堆了一大堆土，看不准归哪类 {uuid.uuid4().hex[:6]}"
        page.fill("#description", text)
        page.click("#save")
        for _ in range(60):  # sent at once when online
            if count_with_description(site, text):
                break
            page.wait_for_timeout(250)
        assert count_with_description(site, text) == 1
        with site.client("supervisor") as c:
            feats = c.get("/api/v1/incidents", params={"category": "OTH-00", "limit": 1000}).json()["features"]
        mine = [f for f in feats if f["properties"]["description"] == text]
        assert mine and mine[0]["properties"]["lead_department"] == "TOWN"
    finally:
        context.close()
