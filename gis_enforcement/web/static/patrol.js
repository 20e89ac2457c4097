/* The patrol page: pick a category, take a GPS fix and photos, describe, save. A report is written to the
   device first (Store) and sent when the network allows — queued → sending → accepted | rejected — with its
   client UUID, so a retry after a lost answer is stored once. A patrol's positions are recorded every few
   seconds while it is active and uploaded as a track the reports refer to. */
"use strict";

(() => {
  const { t, api, el, notice, ApiError, NetworkError, geoReason } = GISE;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const TRACK_EVERY_S = Math.max(1, Number(params.get("track_s")) || 15);
  const RETRY_MS = 10000;

  /* the words only this page uses (the shared ones are common.js's) */
  
  /* the server's limit on one photo (settings.photo_max_bytes, 413 beyond it) */
  const PHOTO_MAX_BYTES = 15_000_000;
  const COURSE_EVERY_MS = 30000;

  let categories = JSON.parse(localStorage.getItem("gise.categories") || "[]");
  let recent = JSON.parse(localStorage.getItem("gise.recent") || "[]");
  let chosen = null;          // category code
  let collapsed = false;      // the list shows only the chosen category (after a tap; 更换类别 opens it again)
  let fix = null;             // {lon, lat, accuracy, at}
  let photos = [];            // [{blob, name, type, exif}]
  let editing = null;         // id of a rejected report being corrected
  let syncing = false;
  let trackWatch = null; let trackTimer = null; let lastPos = null;

  /* ---------- who is signed in ---------- */
  function showSignedIn() {
    const s = GISE.session();
    const me = s && s.me;
    $("signin-card").classList.toggle("hidden", !!me);
    $("work").classList.toggle("hidden", !me);
    $("signout").classList.toggle("hidden", !me);
    // the officer's name when the sign-in gives it (display_name), else the login
    $("who").textContent = me ? `${me.display_name || me.username} · ${me.unit_name || me.unit_code}` : "";
    if (me) { loadCategories(); renderQueue(); restoreTrack(); sync(); }
  }
  GISE.mountSignIn($("signin-card"), showSignedIn);
  /* sign-out asks first, and says how many of this officer's reports are still on the phone (they stay, kept
     for this officer: the next one to sign in on the phone neither sends nor sees them) */
  $("signout").addEventListener("click", async () => {
    const n = (await myReports()).filter(unsent).length;
    if (confirm(n ? t("signout_unsent", { n }) : t("signout_confirm"))) GISE.signOut();
  });
  $("lang").addEventListener("click", () => GISE.switchLanguage());
  document.addEventListener("gise:language", () => { renderCategories(); renderFix(); renderQueue(); renderThumbs(); renderPatrol(); });

  function renderNet() {
    const on = navigator.onLine;
    $("net").textContent = on ? t("online") : t("offline");
    $("net").classList.toggle("off", !on);
  }
  window.addEventListener("online", () => { renderNet(); sync(); });
  window.addEventListener("offline", renderNet);

  /* ---------- categories: searchable, recent first; kept on the device for offline use ---------- */
  async function loadCategories() {
    if (navigator.onLine) try {
      const data = await api("/api/v1/catalog/categories");
      categories = data.data;
      localStorage.setItem("gise.categories", JSON.stringify(categories));
    } catch { /* offline: the copy on the device serves */ }
    renderCategories();
  }
  function categoryName(c) { return GISE.lang() === "zh" ? c.zh : c.en; }
  function renderCategories() {
    const focused = document.activeElement && document.activeElement.closest("#cat-list") ? document.activeElement.dataset.code : null;
    const q = $("cat-search").value.trim().toLowerCase();
    /* the lists' placeholder (类别待定) is always last: a choice for when nothing above fits, never a habit */
    const rank = (c) => { if (c.classify_first) return 1000; const i = recent.indexOf(c.code); return i < 0 ? 100 : i; };
    const shown = categories
      .filter((c) => (collapsed && chosen) ? c.code === chosen
        : !q || c.code.toLowerCase().includes(q) || c.zh.includes(q) || c.en.toLowerCase().includes(q))
      .sort((a, b) => rank(a) - rank(b) || a.code.localeCompare(b.code));
    if (!shown.length) { $("cat-list").replaceChildren(el("p", { class: "muted", role: "status", id: "cat-none", text: t("no_match") })); }
    else $("cat-list").replaceChildren(...shown.map((c) => el("button", {
      type: "button", "aria-pressed": String(c.code === chosen), "data-code": c.code,
      class: c.classify_first ? "unsure" : null,
      onclick: () => { chosen = c.code; collapsed = true; renderCategories(); renderFix(); },
    }, categoryName(c), el("span", { class: "code", text: c.code }),
    recent.includes(c.code) ? el("span", { class: "tag", text: t("recent") }) : null)),
    ...(collapsed && chosen ? [el("button", { type: "button", id: "cat-change", class: "small",
      onclick: () => { collapsed = false; renderCategories(); $("cat-search").focus(); } }, t("change_category"))] : []));
    if (focused) { const again = $("cat-list").querySelector(`button[data-code="${focused}"]`); if (again) again.focus(); }
    const c = categories.find((x) => x.code === chosen);
    $("cat-info").textContent = !c ? "" : c.classify_first ? t("unsure_category_info")
      : `${t("lead")}: ${c.lead_department_zh || c.lead_department || "—"} · ${t("max_accuracy")}: ±${c.max_accuracy_m} m`;
  }
  $("cat-search").addEventListener("input", () => { collapsed = false; renderCategories(); });

  /* ---------- the GPS fix, judged against the category's accuracy ---------- */
  function poorFix() {
    const c = categories.find((x) => x.code === chosen);
    return !!(fix && c && fix.accuracy > c.max_accuracy_m);
  }
  /* why the last 获取定位 failed (permission denied, no signal, timed out): shown until a position is had */
  let fixError = null;
  function renderFix() {
    if (fix) fixError = null;
    if (!fix) { $("fix").textContent = fixError ? t("geo_failed") : t("no_fix"); $("fix").className = `fix grow${fixError ? " poor" : ""}`; }
    else {
      $("fix").textContent = `${fix.lon.toFixed(6)}, ${fix.lat.toFixed(6)} · ${t("accuracy")} ±${Math.round(fix.accuracy)} m`;
      $("fix").className = `fix grow ${poorFix() ? "poor" : "good"}`;
    }
    const c = categories.find((x) => x.code === chosen);
    if (poorFix()) notice($("fix-warn"), "warn", t("fix_poor", { acc: Math.round(fix.accuracy), max: c.max_accuracy_m }));
    else if (fixError) notice($("fix-warn"), "bad", fixError);
    else $("fix-warn").replaceChildren();
    $("confirm-row").classList.toggle("hidden", !poorFix());
    if (!poorFix()) $("confirm-poor").checked = false;
  }
  /* the patrol track's watch position when it is fresh (younger than FRESH_WATCH_MS, with its accuracy): then
     获取定位 answers at once instead of asking the phone again, which can take up to the 20 s timeout */
  const FRESH_WATCH_MS = 10000;
  function freshWatchPosition() {
    if (!lastPos || !lastPos.coords || !Number.isFinite(lastPos.coords.accuracy)) return null;
    const age = Date.now() - lastPos.timestamp;
    return age >= 0 && age < FRESH_WATCH_MS ? lastPos : null;
  }
  $("locate").addEventListener("click", async () => {
    $("fix").textContent = t("locating");
    try {
      // with a patrol track being followed some phones answer only the watch: its position serves if fresh
      const p = freshWatchPosition() || await GISE.position().catch((e) => {
        if (lastPos && Date.now() - lastPos.timestamp < 60000) return lastPos;
        throw e;
      });
      fix = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy, at: new Date() };  // the page clock: what the officer sees
    } catch (e) {
      fix = null;
      fixError = geoReason(e);
    }
    renderFix();
  });

  /* ---------- photos, with what their EXIF says ---------- */
  $("photos").addEventListener("change", async () => {
    const big = [];
    for (const file of $("photos").files) {
      photos.push({ blob: file, name: file.name, type: file.type, exif: await Exif.fromFile(file) });
      if (file.size > PHOTO_MAX_BYTES) big.push(t("photo_big_warn", { name: file.name, mb: PHOTO_MAX_BYTES / 1e6 }));
    }
    $("photos").value = "";
    renderThumbs();
    if (big.length) notice($("report-msg"), "warn", big.join("；"));
  });
  function exifText(x) {
    if (!x || (!x.taken && x.lat === null)) return t("exif_none");
    const parts = [];
    if (x.taken) parts.push(`${t("exif_time")} ${x.taken}`);
    if (x.lat !== null && x.lon !== null) parts.push(`${t("exif_pos")} ${x.lon.toFixed(5)}, ${x.lat.toFixed(5)}`);
    return parts.join(" · ");
  }
  function renderThumbs() {
    $("thumbs").replaceChildren(...photos.map((p, i) => el("figure", {},
      el("img", { src: URL.createObjectURL(p.blob), alt: `${t("photos")} ${i + 1}` }),
      el("figcaption", { class: "exif", text: exifText(p.exif) }),
      el("button", { type: "button", class: "danger small", onclick: () => { photos.splice(i, 1); renderThumbs(); } },
        t("remove")))));
  }

  /* ---------- save: to the device first, then send ---------- */
  $("report").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const msg = $("report-msg");
    if (!chosen) return notice(msg, "bad", t("need_category"));
    if (!fix) return notice(msg, "bad", t("need_fix"));
    if (poorFix() && !$("confirm-poor").checked) return notice(msg, "bad", t("need_confirm"));
    // "仍然提交（需说明）": a poor fix goes with the officer's explanation
    if (poorFix() && !$("description").value.trim()) { $("description").focus(); return notice(msg, "bad", t("fix_reason_needed")); }
    const me = GISE.session().me;
    const track = await currentTrack();
    const id = editing || GISE.uuid();
    const feature = {
      type: "Feature", id, geometry: { type: "Point", coordinates: [fix.lon, fix.lat] },
      properties: { category: chosen, observed_at: GISE.isoLocal(fix.at), accuracy_m: Math.round(fix.accuracy * 10) / 10,
        reporter: me.username, description: $("description").value.trim(), crs: "wgs84",
        ...(track ? { track_id: track.id } : {}) },
    };
    await Store.put("reports", { id, owner: me.username, feature, photos: photos.map((p) => ({ ...p, sent: false })),
      state: "queued", created: Date.now(), error: null, result: null });
    recent = [chosen, ...recent.filter((c) => c !== chosen)].slice(0, 5);
    localStorage.setItem("gise.recent", JSON.stringify(recent));
    // the whole form is cleared, the category too: the next report names its own (最近使用 puts this one first)
    editing = null; chosen = null; collapsed = false; fix = null; photos = [];
    $("description").value = ""; $("confirm-poor").checked = false; $("cat-search").value = "";
    renderFix(); renderThumbs(); renderCategories();
    notice(msg, "ok", t("saved"));
    lastSaved = id;
    await renderQueue();
    await sync();
  });
  /* the notice of the last save follows its report: "saved, sent when online" becomes 已上报 once it is sent
     (saying how many photos the server refused), or 被退回 */
  let lastSaved = null;
  async function renderSaved() {
    if (!lastSaved) return;
    const r = await Store.get("reports", lastSaved);
    if (!r) { lastSaved = null; return; }
    const dropped = (r.photoErrors || []).length;
    if (r.state === "accepted" && r.photos.every((p) => p.sent)) {
      notice($("report-msg"), dropped ? "warn" : "ok", dropped ? t("sent_photos_dropped", { n: dropped }) : t("sent_now"));
      lastSaved = null;
    } else if (r.state === "rejected") { notice($("report-msg"), "bad", t("state_rejected")); lastSaved = null; }
  }

  /* ---------- the queue ---------- */
  /* this officer's reports on the phone: the queue and the history are per officer (a report kept from before
     reports had an owner is its reporter's) */
  async function myReports() {
    const s = GISE.session();
    const me = s && s.me ? s.me.username : null;
    return (await Store.all("reports")).filter((r) => me && (r.owner || r.feature.properties.reporter) === me);
  }
  const unsent = (r) => r.state === "queued" || r.state === "sending" || (r.state === "accepted" && r.photos.some((p) => !p.sent));
  async function renderQueue() {
    const items = (await myReports()).sort((a, b) => b.created - a.created);
    const seen = Object.fromEntries(items.map((r) => [r.id, r.feature.properties.observed_at]));
    if (!items.length) { $("queue").replaceChildren(el("li", { class: "muted", text: t("queue_empty") })); return; }
    $("queue").replaceChildren(...items.map((r) => {
      const c = categories.find((x) => x.code === r.feature.properties.category);
      const pending = r.photos.filter((p) => !p.sent).length;
      return el("li", { "data-id": r.id, "data-state": r.state },
        el("div", { class: "row" },
          el("strong", { class: "grow", text: c ? categoryName(c) : r.feature.properties.category }),
          el("span", { class: `badge state-${r.state}`, text: t(`state_${r.state}`) })),
        el("div", { class: "small muted", text: `${GISE.when(r.feature.properties.observed_at)} · ${r.id.slice(0, 8)}` +
          (r.result ? ` · ${r.result.township_name || ""} · ${t("lead")} ${leadName(r.result) || "—"}` : "") +
          (pending && r.state !== "rejected" ? ` · ${pending} ${t("photos_pending")}` : "") }),
        r.course ? el("div", { class: "small course", text: courseText(r.course) }) : null,
        ...caseNotes(r, seen).map((n) => el("div", { class: "notice warn small", text: n })),
        r.refusal || r.error || (r.photoErrors || []).length
          ? el("div", { class: "notice bad small", role: "alert", text: refusalText(r) }) : null,
        r.state === "rejected" ? el("div", { class: "row" },
          el("button", { type: "button", onclick: () => correct(r) }, t("fix_it")),
          el("button", { type: "button", class: "danger", onclick: async () => { await Store.remove("reports", r.id); renderQueue(); } },
            t("remove"))) : null);
    }));
  }
  /* why the server refused the report, in the page's language now (kept as the server answered it, so that the
     language switch says it again): in Chinese by the codes of its refused fields, in English the server's words;
     then any photo the server refused */
  function refusalText(r) {
    const why = r.refusal ? new ApiError(r.refusal.status, r.refusal.body).describe() : null;
    return [why, r.error, ...(r.photoErrors || []).map(photoRefusal)].filter(Boolean).join("；");
  }
  /* a photo the server refused, by its status (kept as answered, said in the page's language now) */
  function photoRefusal(p) {
    if (p.status === 413) return t("photo_too_big", { name: p.name, mb: PHOTO_MAX_BYTES / 1e6 });
    if (p.status === 415) return t("photo_not_image", { name: p.name });
    return t("photo_refused", { name: p.name, why: new ApiError(p.status, p.body).describe() });
  }
  /* what became of an accepted report (GET /api/v1/incidents/mine): its status, then each department summoned
     and how far it has got — "已吹哨 · 区水务局 已报到 01:20" — or only the status once it is resolved */
  function courseText(c) {
    const status = GISE.statusName(c.status);
    if (["resolved", "verified", "closed", "rejected", "duplicate"].includes(c.status) || !c.departments.length) return status;
    const hm = (iso) => GISE.when(iso).split(" ").pop();
    const where = (a) => a.done_at ? t("course_done")
      : ["declined", "released"].includes(a.status) ? t("stood_down")
        : a.reported_in_at ? `${t("reported_in")} ${hm(a.reported_in_at)}` : t("awaiting");
    return `${status} · ${c.departments.map((a) => `${a.department_name || a.department} ${where(a)}`).join("，")}`;
  }
  /* what the intake found about the report: a likely repeat of an earlier one (when it was seen: from the
     course, else from the officer's own reports), a problem back at a closed case's spot */
  function caseNotes(r, seen) {
    const x = { ...(r.result || {}), ...(r.course || {}) };
    const notes = [];
    if (x.likely_duplicate_of) {
      const at = x.duplicate_observed_at || seen[x.likely_duplicate_of];
      notes.push(t("duplicate_of", { at: at ? GISE.when(at) : x.likely_duplicate_of.slice(0, 8),
        m: Math.round(x.duplicate_distance_m || 0) }));
    }
    if (x.recurrence_of) notes.push(t("spot_came_back"));
    return notes;
  }
  /* the lead department by name: the one the server's plan named, else the lists' name for the code */
  function leadName(result) {
    if (result.lead_name) return result.lead_name;
    const c = categories.find((x) => x.lead_department === result.lead);
    return (c && c.lead_department_zh) || result.lead;
  }
  function correct(r) {
    const p = r.feature.properties;
    editing = r.id; chosen = p.category;
    fix = { lon: r.feature.geometry.coordinates[0], lat: r.feature.geometry.coordinates[1], accuracy: p.accuracy_m,
      at: new Date(p.observed_at) };
    photos = r.photos.filter((x) => !x.sent);
    $("description").value = p.description || "";
    renderCategories(); renderFix(); renderThumbs();
    $("report").scrollIntoView();
  }

  /* ---------- sending: one pass at a time; a network failure leaves the rest queued ---------- */
  /* what became of the accepted reports, asked of the server on a sync at most every COURSE_EVERY_MS (at once
     after a send or 立即同步); kept on each report, so that the page shows it offline too */
  let courseAt = 0; let forced = false;
  async function refreshCourse(now) {
    if (!navigator.onLine || (!now && Date.now() - courseAt < COURSE_EVERY_MS)) return;
    if (!(await myReports()).some((r) => r.state === "accepted")) return;
    courseAt = Date.now();
    let mine;
    try { mine = (await api("/api/v1/incidents/mine?limit=200")).data; } catch { return; }
    for (const c of mine) await Store.update("reports", c.id, (x) => { x.course = c; });
  }
  async function sync() {
    if (syncing || !GISE.session()) return;
    syncing = true;
    try {
      await uploadTracks();
      // only this officer's reports go with this officer's sign-in; another's wait for their author
      const items = (await myReports()).sort((a, b) => a.created - b.created);
      let sent = false;
      for (const r of items) {
        if (r.state === "rejected") continue;
        if (r.state === "accepted" && r.photos.every((p) => p.sent)) continue;
        if (!navigator.onLine) break;
        sent = true;
        if (!(await send(r))) break;
      }
      await refreshCourse(sent || forced);
    } finally {
      syncing = false; forced = false;
      await renderQueue();
      renderSaved();
      // the sign-in ran out (refresh token spent or expired): ask for it again; the queue stays on the phone
      if (!GISE.session()) showSignedIn();
    }
  }
  async function send(r) {
    if (r.state !== "accepted") {
      await Store.update("reports", r.id, (x) => { x.state = "sending"; });
      renderQueue();
      try {
        const f = await api("/api/v1/incidents", { method: "POST", body: r.feature });
        r = await Store.update("reports", r.id, (x) => {
          x.state = "accepted"; x.error = null; x.refusal = null;
          const lead = (f.properties.plan || []).find((p) => p.role === "lead");
          x.result = { township_name: f.properties.township_name, lead: f.properties.lead_department,
            lead_name: lead && lead.department === f.properties.lead_department ? lead.department_name : null,
            status: f.properties.status, likely_duplicate_of: f.properties.likely_duplicate_of,
            duplicate_distance_m: f.properties.duplicate_distance_m, recurrence_of: f.properties.recurrence_of };
        });
      } catch (e) {
        return failed(r, e);
      }
    }
    for (let i = 0; i < r.photos.length; i++) {
      if (r.photos[i].sent) continue;
      const form = new FormData();
      form.append("file", r.photos[i].blob, r.photos[i].name || "photo.jpg");
      try {
        await api(`/api/v1/incidents/${r.id}/photos`, { method: "POST", body: form });
      } catch (e) {
        if (e instanceof ApiError && e.status < 500 && e.status !== 429) {
          // a photo the server refuses (type, size) is dropped with its reason; the case stands
          // every refusal kept (not only the last), with its status and answer, said in the page's language
          await Store.update("reports", r.id, (x) => {
            x.photos[i].sent = true;
            x.photoErrors = [...(x.photoErrors || []), { name: r.photos[i].name, status: e.status, body: e.body }];
          });
          continue;
        }
        return false;
      }
      await Store.update("reports", r.id, (x) => { x.photos[i].sent = true; });
    }
    return true;
  }
  async function failed(r, e) {
    // a refusal is for good; not a network failure, a 5xx, a lapsed sign-in, the rate limit or an id being stored
    // by another request at that moment (sending again is safe)
    const permanent = e instanceof ApiError && e.status >= 400 && e.status < 500 && ![401, 408, 429].includes(e.status)
      && e.code !== "concurrent_intake";
    await Store.update("reports", r.id, (x) => {
      x.state = permanent ? "rejected" : "queued";
      x.refusal = permanent ? { status: e.status, body: e.body } : null;
      x.error = null;
    });
    return permanent; // a rejection does not stop the others; a network or server failure does
  }
  $("sync").addEventListener("click", () => { forced = true; sync(); });
  setInterval(() => { if (navigator.onLine) sync(); }, RETRY_MS);

  /* ---------- the patrol track ---------- */
  async function currentTrack() {
    const id = localStorage.getItem("gise.track");
    return id ? Store.get("tracks", id) : null;
  }
  async function renderPatrol() {
    const tr = await currentTrack();
    const on = !!(tr && !tr.ended_at);
    $("patrol").textContent = on ? t("patrol_stop") : t("patrol_start");
    $("patrol").setAttribute("aria-pressed", String(on));
    $("patrol").classList.toggle("primary", on);
    const left = tr && tr.dropped ? ` · ${t("track_dropped", { n: tr.dropped })}：${tr.refusal}` : "";
    $("patrol-state").textContent = (on ? `${t("patrol_on")}: ${tr.points.length}` : t("patrol_off")) + (on ? left : "");
  }
  function follow() {
    if (trackWatch !== null || !navigator.geolocation) return;
    trackWatch = navigator.geolocation.watchPosition((p) => { const first = !lastPos; lastPos = p; if (first) record(); },
      () => {}, { enableHighAccuracy: true });
    trackTimer = setInterval(record, TRACK_EVERY_S * 1000);
  }
  /* one track point every TRACK_EVERY_S seconds: the newest position the watch gave (a phone standing still
     gets no new position, and the officer is still on patrol there) */
  async function record() {
    const tr = await currentTrack();
    if (!tr || tr.ended_at || !lastPos) return;
    const c = lastPos.coords;
    await Store.update("tracks", tr.id, (x) => { x.points.push([c.longitude, c.latitude, c.accuracy, GISE.isoLocal(new Date())]); });
    renderPatrol();
  }
  async function restoreTrack() {
    const tr = await currentTrack();
    if (tr && !tr.ended_at) follow();
    renderPatrol();
  }
  $("patrol").addEventListener("click", async () => {
    const tr = await currentTrack();
    if (tr && !tr.ended_at) {
      await record();
      await Store.update("tracks", tr.id, (x) => { x.ended_at = GISE.isoLocal(new Date()); });
      localStorage.removeItem("gise.track");
      if (trackWatch !== null) navigator.geolocation.clearWatch(trackWatch);
      clearInterval(trackTimer); trackWatch = null;
    } else {
      const id = GISE.uuid();
      await Store.put("tracks", { id, started_at: GISE.isoLocal(new Date()), ended_at: null, points: [], uploaded: 0 });
      localStorage.setItem("gise.track", id);
      follow();
    }
    renderPatrol();
    sync();
  });
  /* the page re-sends each track whole as it grows. A position the server refuses (a phone clock gone wrong, a
     fix far off what its accuracy says) is left out of the track and the rest sent again, the officer told on
     the patrol line; any other refusal leaves that track for later and the next tracks still go. */
  function trackRefusal(e) {
    if (GISE.lang() !== "zh") return e.describe();
    if (e.field.startsWith("properties.times")) return t("track_bad_time");
    if (e.field.startsWith("geometry.coordinates")) return t("track_bad_jump");
    return e.describe();
  }
  const TRACK_FIELD = /^(?:properties\.times|properties\.accuracy_m|geometry\.coordinates)\[(\d+)\]/;
  async function uploadTracks() {
    for (let tr of await Store.all("tracks")) {
      for (let tries = 0; tries < 50 && tr; tries++) {
        if (!navigator.onLine) return;
        if (!tr.points.length || tr.uploaded === tr.points.length) {
          if (tr.ended_at && tr.uploaded === tr.points.length) await Store.remove("tracks", tr.id);
          break;
        }
        const body = { type: "Feature", geometry: { type: "LineString", coordinates: tr.points.map((p) => [p[0], p[1]]) },
          properties: { times: tr.points.map((p) => p[3]), accuracy_m: tr.points.map((p) => p[2]), crs: "wgs84" } };
        try {
          await api(`/api/v1/tracks/${tr.id}`, { method: "PUT", body });
          const n = tr.points.length;
          await Store.update("tracks", tr.id, (x) => { x.uploaded = n; });
          break;
        } catch (e) {
          if (e instanceof NetworkError) return;
          const bad = e instanceof ApiError && e.status === 422 ? TRACK_FIELD.exec(e.field || "") : null;
          if (!bad) { console.warn("track upload refused", e.message); break; }
          const i = Number(bad[1]); const why = trackRefusal(e);
          tr = await Store.update("tracks", tr.id, (x) => {
            x.points.splice(i, 1); x.uploaded = -1; x.dropped = (x.dropped || 0) + 1; x.refusal = why;
          });
        }
      }
    }
    renderPatrol();
  }

  GISE.applyWords();
  renderNet();
  showSignedIn();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
})();
