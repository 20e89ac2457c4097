/* The dispatch console. One page, three desks chosen by the signed-in role:
   - a township dispatcher watches the map and list of its cases (and its neighbours' near-border ones), opens a
     case — location, photos, the whistle plan the lists propose — whistles it with one button, then follows
     each department's report-in against its countdown, verifies, reopens and rates;
   - a department sees its assignments by deadline, reports in from the site (the phone's position), records
     actions and photos and asks the township to follow up (部门要求);
   - a district supervisor sees warnings as they are raised, the evaluation table and chart, the maps, and the
     joint-operation plans with their execute button.
   Case events arrive over Server-Sent Events; new cases by a short poll (intake writes no case event).
   The page opens with no network too (the service worker, sw.js): the department's desk then shows its list as
   last loaded, marked 离线 · 上次更新 HH:MM, and offers 报到 only, queued on the device until the signal is back. */
"use strict";

(() => {
  const { t, api, el, notice, ApiError } = GISE;
  const $ = (id) => document.getElementById(id);
  const KINDS = ["whistle", "report_in", "warning", "case_in_action", "enforcement_record", "resolve", "resume",
    "verify", "close", "reopen", "rating", "follow_up_request", "follow_up_done", "photo", "triage", "decline",
    "overrule", "release", "complete", "mark_duplicate", "reject", "reinstate"];
  const STATUS_COLOUR = { reported: "#c62828", triaged: "#c62828", whistled: "#e65100", in_action: "#b26a00",
    resolved: "#1565c0", verified: "#1565c0", closed: "#2e7d32", reopened: "#ad1457", rejected: "#616161",
    duplicate: "#616161" };
  let me = null; let categories = []; let actionKinds = []; const listeners = [];

  /* ---------- signing in ---------- */
  GISE.mountSignIn($("signin-card"), () => start());
  /* report-ins pressed where there was no signal, kept on the device until they can be sent (the department's
     desk sends them): per signed-in user, so the next one to sign in on the device neither sends nor sees them.
     Each keeps the position and ``fixed_at``, the device's clock when the position was had */
  const QUEUE_KEY = "gise.report_in_queue";
  const queuedAll = () => { try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch { return []; } };
  const queuedKeep = (list) => (list.length ? localStorage.setItem(QUEUE_KEY, JSON.stringify(list)) : localStorage.removeItem(QUEUE_KEY));
  const queuedOf = (username) => queuedAll().filter((q) => q.owner === username);
  /* the department's assignments as last loaded, kept on the device for the page opened with no signal: one user's
     at a time ({owner, loaded_at, items}), never shown to another, dropped at sign-out (only a signed-in officer
     can use it, and signing in needs the network, which loads the list again) */
  const KEPT_KEY = "gise.assignments_kept";
  /* sign-out warns while report-ins of this user wait to be sent: they stay on the device for the next sign-in */
  $("signout").addEventListener("click", () => {
    const n = me ? queuedOf(me.username).length : 0;
    if (!n || confirm(t("signout_unsent_report_in", { n }))) { localStorage.removeItem(KEPT_KEY); GISE.signOut(); }
  });
  $("lang").addEventListener("click", () => GISE.switchLanguage());
  const catName = (code) => { const c = categories.find((x) => x.code === code); return c ? (GISE.lang() === "zh" ? c.zh : c.en) : code; };
  const flash = (kind, text) => notice($("flash"), kind, text);
  /* a call that did not reach the server — no network, or a proxy that cannot reach the platform (502/503/504) —
     as against a refusal: what the desk shows from the device then, and what a report-in is queued on */
  const unreachable = (e) => e instanceof GISE.NetworkError || (e instanceof ApiError && [502, 503, 504].includes(e.status));
  // a refusal in Chinese by its code, field and detail where the page knows it, else the server's message; a
  // sign-in that ran out meanwhile asks for the sign-in again
  const failure = (e) => (signedOut(e) ? expired() : flash("bad", GISE.failureText(e)));
  /* the sign-in ran out: the refresh token (spent once, 12 h) was refused — after a long time without signal —
     so the page has no session any more and the server answers 401 */
  const signedOut = (e) => e instanceof ApiError && e.status === 401 && !GISE.session();
  let started = false;   // a desk is running: a new sign-in on this page starts it afresh (a reload)
  function expired() {
    if (!started || !$("signin-card").classList.contains("hidden")) return;
    for (const id of ["township-view", "department-view", "supervisor-view"]) $(id).classList.add("hidden");
    $("signout").classList.add("hidden");
    $("signin-card").classList.remove("hidden");
    if (source) source.close();
    // report-ins waiting on the device stay there: the same officer signed in again sends them
    const n = me ? queuedOf(me.username).length : 0;
    flash("warn", n ? t("session_expired_queued", { n }) : t("session_expired"));
  }

  /* the names of departments and townships, asked for once: the tables drawn at start wait for the same answer
     (a second caller must not get the names while they are still being filled in) */
  let names = null;
  function unitNames() {
    names = names || (async () => {
      const out = {};
      try {
        for (const d of (await api("/api/v1/catalog/departments")).data) {
          out[`department:${d.code}`] = GISE.lang() === "zh" ? d.zh : d.en;
          if (d.role === "whistler") out[`team:${d.code}`] = true;   // one team per township (TOWN)
        }
        for (const f of (await api("/ogc/collections/townships/items?limit=100")).features) out[`township:${f.properties.code}`] = f.properties.name;
      } catch (e) {
        // unreachable: asked again next time (a page opened offline gets them once it is online)
        if (unreachable(e)) names = null; else failure(e);
      }
      return out;
    })();
    return names;
  }
  /* a unit (department or township) by its name, once the names are in; its code until then */
  const unitName = (known, code) => known[`department:${code}`] || known[`township:${code}`] || code;
  /* whom a warning is about: a township team's by its township (金海湖镇综合执法队), else its unit */
  const subjectName = (known, w) => (known[`team:${w.subject_code}`] && w.township_code
    ? `${String(known[`township:${w.township_code}`] || w.township_code).split("(")[0]}${t("team_suffix")}`
    : w.subject_kind === "location" ? t("rebound_place")
      : known[`${w.subject_kind}:${w.subject_code}`] || `${w.subject_kind} ${w.subject_code}`);

  async function start() {
    const s = GISE.session();
    me = s && s.me;
    if (me) {
      try { me = await api("/api/v1/auth/me"); } catch (e) { if (e instanceof ApiError && e.status === 401) me = null; }
    }
    $("signin-card").classList.toggle("hidden", !!me);
    $("signout").classList.toggle("hidden", !me);
    if (!me) return;
    if (started) { location.reload(); return; }   // signed in again after the sign-in ran out: the desk afresh
    whoLine();
    if (me.role === "patrol") {
      // a patrol has no desk here (and the event stream refuses it): send it to its own page
      $("flash").replaceChildren(el("div", { class: "notice info", role: "status" }, t("patrol_here"),
        el("a", { id: "to-patrol", href: "/app/patrol" }, t("patrol_link"))));
      $("live").classList.add("hidden");
      return;
    }
    await readLists();
    started = true;
    if (me.role === "township_dispatcher") Township.start();
    else if (me.role === "department_officer" || me.role === "department_chief") Department.start();
    else if (me.role === "supervisor" || me.role === "admin") Supervisor.start();
    connectEvents();
  }

  /* who is signed in, with the unit's name once the names are in (its code until then, and offline) */
  function whoLine() {
    const line = (unit) => `${me.username} · ${t(`role_name_${me.role}`)}${unit ? ` · ${unit}` : ""}`;
    // the unit as the server names it (a township team: 金海湖镇…综合行政执法队), kept with the sign-in for offline
    const named = me.unit_kind === "district" ? t("whole_district") : me.unit_name;
    if (named) { $("who").textContent = line(named); return; }
    $("who").textContent = line(me.unit_code);
    unitNames().then((known) => { $("who").textContent = line(unitName(known, me.unit_code)); });
  }
  /* the lists' categories and action kinds; a page opened offline reads them once it is online (catchUp) */
  async function readLists() {
    try {
      const lists = await api("/api/v1/catalog/categories");
      categories = lists.data; actionKinds = lists.action_kinds || [];
    } catch (e) { if (!unreachable(e)) failure(e); }
  }
  /* back online after the page opened without the network: what start() could not read */
  async function catchUp() {
    if (!categories.length) await readLists();
    whoLine();
  }

  /* ---------- the event stream (the sign-in cookie authenticates it); reconnects after a renewal ---------- */
  let source = null;
  function connectEvents() {
    if (source) source.close();
    source = new EventSource("/api/v1/events/stream");
    source.onopen = () => { $("live").textContent = t("live"); $("live").classList.remove("off"); };
    source.onerror = () => {
      $("live").textContent = t("live_off"); $("live").classList.add("off");
      // (not once the sign-in has run out: the page asks for it again first)
      if (source.readyState === EventSource.CLOSED) setTimeout(async () => { await GISE.renew(); if (GISE.session()) connectEvents(); }, 3000);
    };
    for (const kind of KINDS) {
      source.addEventListener(kind, (m) => {
        let data = null;
        try { data = JSON.parse(m.data); } catch { return; }
        for (const fn of listeners) fn(data);
      });
    }
  }
  const onEvent = (fn) => listeners.push(fn);
  const levelName = (level) => { const k = `level_${level}`; const w = t(k); return w === k ? level : w; };
  /* a location flag in words (the accuracy of a rough fix in metres) */
  const flagName = (flag, p) => {   // a flag the words do not know is shown as it is
    const key = `flag_${flag}`, said = t(key, { acc: Math.round(p.accuracy_m || 0) });
    return said === key ? flag : said;
  };
  /* the case's record, newest first: what happened, when and who did it */
  function history(events, known) {
    return el("details", { class: "history" }, el("summary", { text: `${t("history")}（${events.length}）` }),
      el("ul", { class: "plain small" }, events.slice().reverse().map((e) => el("li", {},
        el("span", { class: "muted", text: `${GISE.when(e.at)} ` }),
        el("span", { text: e.kind === "whistle" && e.payload && e.payload.mode === "joint_plan" ? t("kind_whistle_joint") : t(`kind_${e.kind}`) }),
        e.kind === "reclassify" && e.payload ? el("span", { text: ` · ${catName(e.payload.from)} → ${catName(e.payload.to)}` }) : null,
        e.payload && e.payload.duplicate_of ? el("span", { text: ` · ${String(e.payload.duplicate_of).slice(0, 8)}` }) : null,
        e.payload && e.payload.department ? el("span", { text: ` · ${unitName(known, e.payload.department)}` }) : null,
        e.kind === "report_in" && e.payload && e.payload.queued_s
          ? el("span", { class: "queued", text: ` · ${t("ri_waited", { n: Math.round(e.payload.queued_s / 60) })}` }) : null,
        e.kind === "report_in" && e.payload && e.payload.withdrawn && e.payload.withdrawn.length
          ? el("span", { class: "withdrawn", text: ` · ${t("ri_withdrew", { rules: e.payload.withdrawn.join("、") })}` }) : null,
        e.actor ? el("span", { class: "muted", text: ` · ${e.actor}` }) : null,
        e.payload && e.payload.reason ? el("span", { text: ` · ${e.payload.reason}` }) : null))));
  }
  /* why a reopened case is open again, since when and by whom (the last reopen event), and what is owed now */
  function reopenNotice(reopening, owed) {
    return el("div", { class: "notice warn reopened", role: "status" },
      el("strong", { text: t(reopening.actor ? "reopened_when_by" : "reopened_when", { at: GISE.when(reopening.at), by: reopening.actor }) }),
      el("div", { text: `${t("reopen_reason")}：${(reopening.payload && reopening.payload.reason) || "—"}` }),
      el("div", { class: "small", text: owed }));
  }
  /* a likely duplicate and a recurrence, as the intake found them; ``go`` opens the case named (the township's desk) */
  function caseNotices(p, go) {
    const link = (id) => (go ? el("a", { href: "#", class: "case-link", "data-case": id, onclick: (ev) => { ev.preventDefault(); go(id); } }, t("open_first")) : null);
    const out = [];
    if (p.likely_duplicate_of) {
      out.push(el("div", { class: "notice warn duplicate", role: "status" },
        el("strong", { text: t("likely_duplicate", { d: Math.round(p.duplicate_distance_m || 0) }) }), " ", link(p.likely_duplicate_of),
        go && ["reported", "triaged"].includes(p.status) ? el("div", { class: "small", text: t("duplicate_hint") }) : null));
    }
    if (p.recurrence_of) {
      out.push(el("div", { class: "notice warn recurrence", role: "status" },
        el("strong", { text: t("recurrence", { id: String(p.recurrence_of).slice(0, 8), d: Math.round(p.recurrence_distance_m || 0) }) }), " ",
        go ? el("a", { href: "#", class: "case-link", "data-case": p.recurrence_of, onclick: (ev) => { ev.preventDefault(); go(p.recurrence_of); } }, p.recurrence_of.slice(0, 8)) : null));
    }
    return out;
  }

  /* countdowns: every [data-due] element shows the time left, and turns late past it — only while its department
     still owes the report-in. Once it has reported in ([data-done]) it says so; an assignment released, declined
     or done ([data-status]) owes nothing any more: its state is shown, never a running or late countdown. A lead
     that reported in and still acts owes the resolution: its countdown ([data-kind=resolution]) runs to its
     resolution due as the API gives it — moved on by the time a reopened case waited resolved, as W05 counts */
  const STOPPED = new Set(["released", "declined", "done"]);
  setInterval(tickCountdowns, 1000);
  /* a detail drawn again keeps the focus where the user was (the input with the same id, the same selection), so
     typing goes on into the new panel instead of into the one just replaced */
  function redraw(box, parts) {
    const active = document.activeElement;
    const focusId = active && active !== box && box.contains(active) && active.id;
    const range = focusId && typeof active.selectionStart === "number" ? [active.selectionStart, active.selectionEnd] : null;
    box.replaceChildren(...parts);
    const again = focusId && document.getElementById(focusId);
    if (again) {
      again.focus({ preventScroll: true });
      if (range && typeof again.setSelectionRange === "function") { try { again.setSelectionRange(...range); } catch (e) { /* not a text input */ } }
    }
  }
  function tickCountdowns() {
    for (const node of document.querySelectorAll("[data-due]")) {
      const left = new Date(node.dataset.due).getTime() - Date.now();
      const stopped = STOPPED.has(node.dataset.status);
      const done = node.dataset.done === "true";
      const late = !stopped && !done && left < 0;
      const what = node.dataset.kind === "resolution" ? `${t("resolution_left")} ` : "";
      node.textContent = stopped ? t(`asg_${node.dataset.status}`) : done ? t("reported_in")
        : node.dataset.kind === "resume" ? `${t("resume_owed")} · ${late ? t("late") : t("resume_left")} ${GISE.countdown(Math.abs(left))}`
          : late ? overdue(node, -left) : `${what}${GISE.countdown(left)}`;
      node.classList.toggle("late", late);
      node.classList.toggle("stopped", stopped);
      const row = node.closest("tr, li");
      if (row) row.classList.toggle("late", late);
    }
  }
  /* past a deadline: how long past in minutes, never a negative clock; for a report-in, what now applies — before
     ``absent_at`` (the warning list's line the API gives) a report-in counts late (W01), after it absent (W02) */
  function overdue(node, pastMs) {
    const minutes = Math.max(1, Math.ceil(pastMs / 60000));
    const past = minutes >= 2880 ? t("overdue_days", { n: Math.floor(minutes / 1440) }) : t("overdue_n", { n: minutes });
    const said = `${node.dataset.kind === "resolution" ? `${t("resolution_due")} · ` : ""}${past}`;
    const absent = node.dataset.kind !== "resolution" && node.dataset.absent;
    if (!absent) return said;
    return `${said} · ${t(Date.now() < new Date(absent).getTime() ? "overdue_late_until" : "overdue_absent", { at: GISE.when(absent) })}`;
  }
  /* the countdown of an assignment (see tickCountdowns): to its report-in. On the department's own desk
     (``owed``), a lead that reported in and still works the case counts down to its resolution due instead;
     dueOf is the due time it counts to. The township's table stays with the report-in (its column is 报到截止) */
  const resolving = (a) => a.role === "lead" && !!a.reported_in_at && !!a.resolution_due && !STOPPED.has(a.status);
  const dueOf = (a) => resolving(a) ? a.resolution_due : a.report_in_due;
  const countdownOf = (a, owed = false) => owed && resolving(a)
    ? el("span", { class: "countdown", "data-due": a.resolution_due, "data-kind": "resolution", "data-done": "false",
      "data-status": a.status })
    : el("span", { class: "countdown", "data-due": a.report_in_due, "data-done": String(!!a.reported_in_at),
      "data-status": a.status, "data-absent": a.absent_at || null });
  function table(headers, rows) {
    return el("div", { class: "table-wrap" }, el("table", {},
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", class: h.num ? "num" : null, text: h.label || h })))),
      el("tbody", {}, rows)));
  }
  function caseFacts(f) {
    const p = f.properties;
    const zones = (p.zones || []).map((z) => z.name || z.code).join("、") || "—";
    return el("dl", { class: "small" },
      el("dt", { text: t("location") }), el("dd", { text: `${p.township_name || ""} ${p.village_name || ""} · ${p.grid_code || ""} · ` +
        `${f.geometry.coordinates[0].toFixed(5)}, ${f.geometry.coordinates[1].toFixed(5)} (±${p.accuracy_m} m)` }),
      el("dt", { text: t("zones") }), el("dd", { text: zones }),
      el("dt", { text: t("observed") }), el("dd", { text: `${GISE.when(p.observed_at)} · ${t("reporter")} ${p.reporter || "—"}` }),
      p.flags && p.flags.length ? el("dt", { text: t("flags") }) : null,
      p.flags && p.flags.length ? el("dd", { class: "flags", text: p.flags.map((x) => flagName(x, p)).join("、") }) : null,
      p.description ? el("dt", { text: t("description") }) : null,
      p.description ? el("dd", { text: p.description }) : null);
  }
  async function photoStrip(incidentId) {
    try {
      const photos = (await api(`/api/v1/incidents/${incidentId}/photos`)).data;
      if (!photos.length) return null;
      return el("div", { class: "thumbs" }, photos.map((p, i) => el("figure", {},
        el("a", { href: p.url, target: "_blank", rel: "noopener" }, el("img", { src: p.url, alt: `${t("photos")} ${i + 1}` })),
        el("figcaption", { text: [p.taken_at ? GISE.when(p.taken_at) : null, p.lon !== null && p.lon !== undefined ? `${p.lon.toFixed(5)}, ${p.lat.toFixed(5)}` : null].filter(Boolean).join(" · ") }))));
    } catch { return null; }
  }

  /* ======================= township ======================= */
  const Township = (() => {
    let map = null; let markers = null; let cases = new Map(); let drawn = null; let selected = null;
    let fresh = new Set();

    function start() {
      $("township-view").classList.remove("hidden");
      $("f-status").replaceChildren(el("option", { value: "open", text: t("all_open") }),
        el("option", { value: "", text: t("all") }),
        ...Object.keys(STATUS_COLOUR).map((s) => el("option", { value: s, text: GISE.statusName(s) })));
      $("f-category").replaceChildren(el("option", { value: "", text: t("all") }),
        ...categories.map((c) => el("option", { value: c.code, text: `${c.code} ${catName(c.code)}` })));
      // the server filters: the page asks for the cases it shows (open ones by default), not the whole township
      $("f-status").onchange = () => { needs = null; drawn = null; load(); };
      $("f-category").onchange = () => { needs = null; drawn = null; load(); };
      map = L.map("map").setView([40.16, 117.15], 11);
      markers = L.layerGroup().addTo(map);
      loadTownships();
      load();
      $("own-picture").addEventListener("toggle", () => { if ($("own-picture").open) ownPicture(); });
      // the event stream says when the chain moved; a new report shows in the desk's counts, read every 10 s (a
      // few hundred bytes): the list is read again only when they changed, and once a minute whatever happens
      setInterval(() => loadDesk(true), 10000);
      setInterval(load, 60000);
      onEvent((e) => { load(); if (selected && e.incident_id === selected && e.actor !== me.username) open(selected, { quiet: true }); });
    }
    /* 本镇情况 (read when opened): the township's recurring sites to look at again (回头看) and how each department
       did on the township's own whistles this month — reports-in on time, late, absent, declined, the ratings it
       gave, 不满意, warnings (GET /api/v1/sites, /api/v1/evaluation: the township's own only) */
    async function ownPicture() {
      const month = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit" }).format(new Date());
      let sites; let ev;
      try {
        [sites, ev] = await Promise.all([api("/api/v1/sites"), api(`/api/v1/evaluation?period=${month}&by=department&lang=${GISE.lang()}`)]);
      } catch (e) { failure(e); return; }
      const known = await unitNames();
      const now = Date.now();
      $("own-sites").replaceChildren(el("h3", { text: `${t("own_sites")}（${sites.features.length}）` }),
        sites.features.length ? table([t("category"), { label: t("own_site_reports"), num: true }, { label: t("own_site_returns"), num: true }, t("own_site_due")],
          sites.features.slice(0, 20).map((f) => { const q = f.properties; const due = q.follow_up_due ? new Date(q.follow_up_due).getTime() : null;
            return el("tr", { "data-site": f.id, class: due !== null && due < now ? "late" : null },
              el("td", { text: String(q.categories || "").split(";").map(catName).join("、") }),
              el("td", { class: "num", text: String(q.n_incidents) }), el("td", { class: "num", text: String(q.n_recurrences) }),
              el("td", { text: q.follow_up_due ? `${GISE.when(q.follow_up_due)}${due < now ? ` · ${t("overdue")}` : ""}` : "—" })); }))
          : el("p", { class: "muted", text: t("no_items") }));
      const cols = ["whistles", "on_time", "late", "absent", "declined", "unsatisfied", "warnings"];
      $("own-departments").replaceChildren(el("h3", { text: t("own_departments", { month }) }),
        ev.data.length ? table([t("department"), ...cols.map((c) => ({ label: t(`own_${c}`), num: true }))],
          ev.data.map((r) => el("tr", { "data-unit": r.department }, el("td", { text: r.team_township === me.unit_code ? t("own_team") : r.name || unitName(known, r.department) }),
            ...cols.map((c) => el("td", { class: "num", text: r[c] === null || r[c] === undefined ? "—" : String(r[c]) })))))
          : el("p", { class: "muted", text: t("no_items") }),
        ...(ev.notes || []).map((n) => el("p", { class: "small muted", text: n })));
    }
    /* 待我处理: what waits for the desk now (GET /api/v1/desk), each count a filter of the list; and the follow-up
       tasks departments handed to the township (部门要求、街乡落实), each with its countdown and 完成 */
    let needs = null;   // {key, ids}: the list narrowed to one desk item's cases
    let deskSeen = null;  // the desk's counts and first cases as last read
    async function loadDesk(poll = false) {
      let desk; let tasks;
      try {
        [desk, tasks] = await Promise.all([api("/api/v1/desk"), api("/api/v1/follow-ups?status=open&limit=50")]);
      } catch (e) { if (!(e instanceof GISE.NetworkError)) failure(e); return; }
      const seen = desk.items.map((x) => `${x.key}:${x.count}:${x.incident_ids.slice(-3).join(",")}`).join("|")
        + `|${tasks.data.map((x) => x.id).join(",")}`;
      const changed = deskSeen !== null && seen !== deskSeen;
      deskSeen = seen;
      if (poll && changed) { load(); return; }   // load() reads the desk again and draws it
      const items = desk.items.filter((x) => !x.key.startsWith("follow_ups"));
      $("desk-items").replaceChildren(...items.map((x) => el("button", { type: "button", "data-key": x.key,
        class: `desk-item${x.count ? " due" : ""}${needs && needs.key === x.key ? " chosen" : ""}`, "aria-pressed": String(!!(needs && needs.key === x.key)),
        disabled: !x.count, onclick: () => {
          needs = needs && needs.key === x.key ? null : { key: x.key, label: x.label, ids: new Set(x.incident_ids) };
          drawn = null; load();
        } }, el("span", { text: t(`desk_${x.key}`) }), el("strong", { class: "count", text: x.count.toLocaleString() }))));
      const box = $("follow-ups");
      if (!tasks.data.length) { box.replaceChildren(); return; }
      box.replaceChildren(el("h3", { text: `${t("follow_ups_title")}（${tasks.numberMatched ?? tasks.data.length}）` }),
        el("ul", { class: "plain" }, tasks.data.map((task) => followUpItem(task))));
      tickCountdowns();
    }
    function followUpItem(task) {
      const note = el("input", { type: "text", id: `fu-note-${task.id}`, "aria-label": t("follow_up_note"), placeholder: t("follow_up_note") });
      return el("li", { class: `follow-up${task.overdue ? " late" : ""}`, "data-task": task.id },
        el("div", { class: "row" },
          el("strong", { class: "grow", text: task.task }),
          el("span", { class: "countdown", "data-due": task.due_at, "data-done": "false" })),
        el("div", { class: "small muted" }, `${task.department_name || task.department} · ${t("follow_up_due")} ${GISE.when(task.due_at)} · `,
          el("a", { href: "#", class: "case-link", "data-case": task.incident_id, onclick: (ev) => { ev.preventDefault(); open(task.incident_id); } },
            `${task.category_name || task.category} · ${task.village_name || task.township_name || ""}`)),
        el("div", { class: "row" }, el("div", { class: "grow" }, note),
          el("button", { type: "button", class: "primary follow-up-done", onclick: async () => {
            try {
              await api(`/api/v1/follow-ups/${task.id}/done`, { method: "POST", body: { township: me.unit_code, note: note.value.trim() || null } });
              flash("ok", `${t("follow_up_done")} ✓`);
            } catch (e) { failure(e); }
            loadDesk();
          } }, t("follow_up_done"))));
    }
    async function loadTownships() {
      try {
        const fc = await api("/ogc/collections/townships/items?limit=100");
        const mine = (f) => f.properties.code === me.unit_code;
        const layer = L.geoJSON(fc, { style: (f) => (mine(f)
          ? { color: "#0b4f8a", weight: 3, fillColor: "#5b9bd5", fillOpacity: 0.12 }
          : { color: "#6b7280", weight: 1, fillColor: "#ffffff", fillOpacity: 0.3 }) })
          .bindTooltip((l) => l.feature.properties.name || "", { sticky: true }).addTo(map);
        layer.bringToBack();
        const own = fc.features.filter(mine);
        if (own.length) map.fitBounds(L.geoJSON(own).getBounds(), { padding: [10, 10] });
      } catch (e) { failure(e); }
    }
    const PAGE = 500;
    /* the states the cases of each desk item are in (the list asks the server for those, then keeps the item's) */
    const NEEDS_STATUS = { triage: "reported", classify: "reported", border_reported: "reported", verify: "resolved",
      declined: "whistled,in_action,reopened", report_in_overdue: "whistled,in_action,reopened" };
    let matched = 0;
    async function load() {
      loadDesk();
      const status = $("f-status").value; const cat = $("f-category").value;
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (needs) query.set("status", NEEDS_STATUS[needs.key] || "reported");   // the states a desk item's cases are in
      else if (status === "open") query.set("open", "true"); else if (status) query.set("status", status);
      if (cat) query.set("category", cat);
      try {
        const fc = await api(`/api/v1/incidents?${query}`);
        const next = new Map(fc.features.map((f) => [f.id, f]));
        // the map and list are drawn again only when a case came, went or changed status
        const state = `${query}|${fc.features.map((f) => `${f.id}:${f.properties.status}`).join()}`;
        if (state === drawn) return;
        const sameQuery = drawn !== null && drawn.startsWith(`${query}|`);
        if (sameQuery) for (const [id, f] of next) if (!cases.has(id)) { fresh.add(id); flash("info", `${t("new_case")}: ${catName(f.properties.category)} · ${f.properties.village_name || ""}`); }
        cases = next; drawn = state; matched = fc.numberMatched ?? fc.features.length;
        render();
      } catch (e) { if (!(e instanceof GISE.NetworkError)) failure(e); }
    }
    function shown() {
      // the server filtered by status and category; a desk item narrows to its own cases
      return [...cases.values()].filter((f) => !needs || needs.ids.has(f.id))
        .sort((a, b) => (fresh.has(b.id) - fresh.has(a.id)) || b.properties.received_at.localeCompare(a.properties.received_at));
    }
    function render() {
      const list = shown();
      $("cases-count").textContent = needs ? t("cases_of_item", { n: list.length, item: t(`desk_${needs.key}`) })
        : matched > cases.size ? t("cases_shown_of", { n: cases.size, total: matched }) : t("cases_n", { n: matched });
      markers.clearLayers();
      for (const f of list) {
        const [lon, lat] = f.geometry.coordinates;
        const neighbour = f.properties.township_code !== me.unit_code;
        L.circleMarker([lat, lon], { radius: list.length > 150 ? 5 : 8, color: neighbour ? "#8a4b00" : "#111", weight: neighbour ? 2 : 1,
          dashArray: neighbour ? "3 3" : null, fillColor: STATUS_COLOUR[f.properties.status] || "#555", fillOpacity: 0.9 })
          .bindTooltip(`${catName(f.properties.category)} · ${GISE.statusName(f.properties.status)}`)
          .on("click", () => open(f.id)).addTo(markers);
      }
      $("cases").replaceChildren(...(list.length ? list.map((f) => {
        const p = f.properties; const neighbour = p.township_code !== me.unit_code;
        return el("button", { type: "button", class: `case${fresh.has(f.id) ? " new" : ""}`, "data-id": f.id,
          "aria-current": String(f.id === selected), onclick: () => open(f.id) },
        el("div", { class: "row" }, el("strong", { class: "grow", text: catName(p.category) }),
          el("span", { class: "badge", style: `color:${STATUS_COLOUR[p.status]}`, text: GISE.statusName(p.status) })),
        el("div", { class: "small muted" }, neighbour ? el("span", { class: "tag border", text: `${t("neighbour")} ${p.township_name}` }) : null,
          fresh.has(f.id) ? el("span", { class: "tag border", text: t("new_case") }) : null,
          p.likely_duplicate_of ? el("span", { class: "tag duplicate", text: t("tag_duplicate") }) : null,
          p.recurrence_of ? el("span", { class: "tag recurrence", text: t("tag_recurrence") }) : null,
          `${GISE.when(p.observed_at)} · ${p.village_name || p.township_name || ""}`));
      }) : [el("p", { class: "muted", text: t("no_items") })]));
    }

    let opening = 0;  // loads of a case's detail can overlap (a click, an event): only the latest is drawn
    async function open(id, opts = {}) {
      const mine = ++opening;
      if (answer && answer.id !== id) answer = null;   // a command's answer belongs to its case
      selected = id; fresh.delete(id);
      render();
      const box = $("detail");
      let f; let asg; let warnings; let timeline;
      try {
        [f, asg, warnings, timeline] = await Promise.all([api(`/api/v1/incidents/${id}`), api(`/api/v1/incidents/${id}/assignments`),
          api(`/api/v1/warnings?incident_id=${id}&limit=200`), api(`/api/v1/incidents/${id}/timeline`)]);
      } catch (e) { failure(e); return; }
      if (mine !== opening) return;  // a later load of the detail is drawing it
      // a rating is given once: the ones in the case's record are shown instead of the form
      const rated = new Map(timeline.events.filter((e) => e.kind === "rating").map((e) => [String(e.payload.assignment_id), e.payload]));
      const p = f.properties; const own = p.township_code === me.unit_code;
      const whistled = asg.data.length > 0;
      const parts = [el("h2", { id: "detail-title", text: `${catName(p.category)} · ${GISE.statusName(p.status)}` }),
        el("p", { class: "small muted", text: `${id}` }), caseFacts(f), ...caseNotices(p, (other) => open(other))];
      const photos = await photoStrip(id);
      const known = await unitNames();
      if (mine !== opening) return;
      const reopening = p.status === "reopened" ? timeline.events.filter((e) => e.kind === "reopen").pop() : null;
      if (reopening) {
        // why the case is open again, since when and by whom, and what is owed now
        const lead = asg.data.find((a) => a.role === "lead");
        const resumed = timeline.events.some((e) => e.kind === "resume" && e.seq > reopening.seq);
        parts.push(reopenNotice(reopening, resumed || !lead ? t("reopened_resumed")
          : t("reopened_next", { lead: unitName(known, lead.department) })));
      }
      if (photos) parts.push(el("h3", { text: t("photos") }), photos);
      const summoned = new Set(asg.data.map((a) => a.department));
      const live = ["summoned", "reported_in", "acting", "declined"];
      const holding = asg.data.some((a) => live.includes(a.status));   // a department still on the case
      const listed = categories.find((c) => c.code === p.category);
      const unclassified = !!(listed && listed.classify_first);          // 类别待定: the desk names it first
      const settledCase = ["duplicate", "rejected"].includes(p.status);
      const sep = GISE.lang() === "zh" ? "、" : ", ";
      const others = (p.border_townships || []).filter((c) => c !== me.unit_code).map((c) => unitName(known, c));
      if (!own) {
        // a neighbour's case near the border: read here, whistled there
        parts.push(el("div", { id: "neighbour-case", class: "notice info", role: "status" },
          t(p.township_code ? "neighbour_case" : "outside_case", { township: p.township_name || unitName(known, p.township_code || ""), list: others.join(sep) })));
      } else if ((p.flags || []).includes("near_border") && others.length) {
        parts.push(el("div", { id: "near-border", class: "notice info", role: "status" }, t("near_border_of", { list: others.join(sep) })));
      }
      focusOnMap(f);
      if (own && unclassified && !settledCase) {
        parts.push(el("div", { id: "classify-first", class: "notice warn", role: "status" }, el("strong", { text: t("classify_first") }),
          el("div", { class: "small", text: t("classify_first_hint") })));
      }
      if (!settledCase && !unclassified) {   // a duplicate or declined case has no one to whistle
        parts.push(el("h3", { text: t("plan") }), table([t("department"), t("role"), { label: t("report_in_minutes"), num: true }],
          p.plan.map((x) => el("tr", { class: whistled && !summoned.has(x.department) ? "muted not-summoned" : null },
            el("td", { text: unitName(known, x.department) + (whistled && !summoned.has(x.department) ? `（${t("not_summoned")}）` : "") }),
            el("td", { text: x.role === "lead" ? t("role_lead") : t("role_assist") }),
            el("td", { class: "num", text: String(x.report_in_minutes ?? "") })))));
      }
      // 吹哨: a case not whistled yet, or one whose every department was released (taken back after a decline,
      // reclassified) — never one whose category is not known yet
      // a report just outside the district may be taken up by a township its fix reaches (the API allows it)
      const candidate = !p.township_code && (p.border_townships || []).includes(me.unit_code);
      const whistleOpen = (own || candidate) && !unclassified && ((!whistled && ["reported", "triaged", "reopened"].includes(p.status))
        || (whistled && !holding && ["triaged", "whistled"].includes(p.status)));
      if (whistleOpen) parts.push(whistleBox(id, p, listed, known));
      // 标记重复 / 不予受理 before anyone is summoned; 恢复受理 when that call was wrong; 改类 until departments act
      if (own && !holding && ["reported", "triaged"].includes(p.status)) parts.push(triageBox(id, p));
      if (own && !holding && ["reported", "triaged", "whistled"].includes(p.status)) parts.push(reclassifyBox(id, p, unclassified));
      if (own && settledCase) parts.push(...settled(id, p, timeline));
      if (whistled) {
        const typedReason = $("asg-reason") ? $("asg-reason").value : "";
        const reason = el("input", { type: "text", id: "asg-reason", value: typedReason || null });
        const withReason = (verb, a) => () => {
          if (!reason.value.trim()) { flash("bad", t("need_reason")); reason.focus(); return; }
          act(id, `assignments/${a.department}/${verb}`, { reason: reason.value.trim() }, t(verb));  // kept: one reason often serves several
        };
        parts.push(el("h3", { text: t("assignments") }), table([t("department"), t("status"), t("due"), t("countdown"), t("resolution_due"), t("rate"), ""],
          asg.data.map((a) => el("tr", { "data-department": a.department, "data-status": a.status },
            el("td", { text: `${unitName(known, a.department)} (${a.role === "lead" ? t("role_lead") : t("role_assist")})` }),
            el("td", { text: t(`asg_${a.status}`) + (a.minutes_late > 0 ? ` · ${t("late")} ${t("minutes_n", { n: Math.round(a.minutes_late) })}` : "")
              + (a.status === "declined" && a.reason ? ` · ${a.reason}` : "") }),
            el("td", { text: GISE.when(a.report_in_due) }),
            el("td", {}, countdownOf(a)),
            el("td", { class: "resolution-due", text: a.resolution_due ? GISE.when(a.resolution_due) : "—" }),
            el("td", {}, rated.has(String(a.id)) ? ratingShown(rated.get(String(a.id))) : own && a.reported_in_at ? rating(a, id) : null),
            el("td", {}, own && a.status === "declined" ? el("button", { type: "button", class: "overrule", onclick: withReason("overrule", a) }, t("overrule")) : null,
              own && live.includes(a.status) ? el("button", { type: "button", class: "release", onclick: withReason("release", a) }, t("release")) : null)))));
        if (own && asg.data.some((a) => live.includes(a.status))) {
          parts.push(el("label", { for: "asg-reason", text: t("asg_reason") }), reason);
        }
      }
      const caseWarnings = warnings.data.filter((w) => w.incident_id === id);
      if (caseWarnings.length) {
        parts.push(el("h3", { text: t("warnings") }), el("ul", { class: "plain" }, caseWarnings.map((w) =>
          el("li", { class: w.withdrawn_at ? "notice small withdrawn" : "notice bad small", "data-rule": w.rule_code,
            text: `${w.rule_code} ${levelName(w.level)} · ${subjectName(known, w)} · `
              + (w.withdrawn_at ? t("warning_withdrawn", { at: GISE.when(w.withdrawn_at), why: w.withdrawn_reason || "" }) : w.consequence) }))));
      }
      if (timeline.events.length) parts.push(history(timeline.events, known));
      if (own && p.status === "resolved") parts.push(el("button", { type: "button", class: "primary", onclick: () => act(id, "verify", { township: me.unit_code }) }, t("verify")));
      if (own && p.status === "verified") {
        // a case closes once its lead is done and every assist done or released: until then say who is out
        const out = asg.data.filter((a) => (a.role === "lead" && a.status !== "done")
          || (a.role === "assist" && !["done", "released"].includes(a.status)));
        parts.push(out.length
          ? el("div", { id: "close-waits", class: "notice info", role: "status" },
            `${t("close_refused")}${pendingWords(out.map((a) => ({ department: a.department, role: a.role, status: a.status })), known)}`)
          : el("button", { id: "close-case", type: "button", class: "primary", onclick: () => act(id, "close", { township: me.unit_code }) }, t("close")));
      }
      if (own && ["resolved", "verified", "closed"].includes(p.status)) {
        const typed = $("reopen-reason") ? $("reopen-reason").value : "";
        const reason = el("input", { type: "text", id: "reopen-reason", "aria-label": t("reopen_reason"), placeholder: t("reopen_reason"), value: typed || null });
        parts.push(el("div", { class: "row" }, el("div", { class: "grow" }, reason),
          el("button", { type: "button", class: "danger", onclick: () => act(id, "reopen", { township: me.unit_code, reason: reason.value }, null, ["reopen-reason"]) }, t("reopen"))));
      }
      if (answer && answer.id === id) parts.push(el("div", { id: "detail-msg", class: `notice ${answer.kind}`, role: answer.kind === "bad" ? "alert" : "status", text: answer.text }));
      redraw(box, parts);
      tickCountdowns();
      if (!opts.quiet) box.focus();
    }
    /* what the dispatcher typed into an input of this case's detail, kept across a redraw (not into another case's) */
    const typedIn = (inputId, id) => { const n = $(inputId); return n && n.dataset.case === id ? n.value : null; };
    /* a word said next to the buttons (and in the flash bar), then the detail drawn again */
    function sayHere(id, text, focusId) {
      flash("bad", text); answer = { id, kind: "bad", text };
      open(id, { quiet: true }).then(() => { const n = focusId && $(focusId); if (n) n.focus(); });
    }
    /* 标记重复 (the first case prefilled with the likely duplicate the intake found, with its link) and 不予受理
       (with a reason): the case leaves the list of cases to whistle */
    function triageBox(id, p) {
      const typedFirst = typedIn("dup-of", id);
      const first = el("input", { type: "text", id: "dup-of", "data-case": id, spellcheck: "false", autocomplete: "off",
        value: typedFirst !== null ? typedFirst : (p.likely_duplicate_of || null), placeholder: t("duplicate_of_label") });
      const reason = el("input", { type: "text", id: "reject-reason", "data-case": id, value: typedIn("reject-reason", id) || null,
        placeholder: t("reject_reason") });
      const markDuplicate = () => {
        if (!first.value.trim()) { sayHere(id, t("need_first_case"), "dup-of"); return; }
        act(id, "mark-duplicate", { township: me.unit_code, duplicate_of: first.value.trim() }, t("mark_duplicate"), ["dup-of"]);
      };
      const reject = () => {
        if (!reason.value.trim()) { sayHere(id, t("need_reason"), "reject-reason"); return; }
        act(id, "reject", { township: me.unit_code, reason: reason.value.trim() }, t("reject"), ["reject-reason"]);
      };
      return el("fieldset", { id: "triage" }, el("legend", { text: t("triage_title") }),
        el("label", { for: "dup-of", text: t("duplicate_of_label") }),
        el("div", { class: "row" }, el("div", { class: "grow" }, first),
          p.likely_duplicate_of ? el("a", { href: "#", class: "case-link first-case", "data-case": p.likely_duplicate_of,
            onclick: (ev) => { ev.preventDefault(); open(first.value.trim() || p.likely_duplicate_of); } }, t("open_first")) : null,
          el("button", { id: "mark-duplicate", type: "button", onclick: markDuplicate }, t("mark_duplicate"))),
        el("label", { for: "reject-reason", text: t("reject_reason") }),
        el("div", { class: "row" }, el("div", { class: "grow" }, reason),
          el("button", { id: "reject", type: "button", class: "danger", onclick: reject }, t("reject"))));
    }
    /* the chosen case on the map: centred (not zoomed out), its GPS accuracy drawn as a circle */
    let focus = null;
    function focusOnMap(f) {
      if (!map) return;
      const [lon, lat] = f.geometry.coordinates;
      if (focus) focus.remove();
      focus = L.layerGroup([
        L.circle([lat, lon], { radius: Math.max(f.properties.accuracy_m || 0, 10), color: "#0b4f8a", weight: 2, fillOpacity: 0.08 }),
        L.circleMarker([lat, lon], { radius: 11, color: "#0b4f8a", weight: 3, fill: false }),
      ]).addTo(map);
      map.setView([lat, lon], Math.max(map.getZoom(), 14));
    }
    /* 吹哨: the departments of the lists' plan (ticked; untick to leave one out) and the others the lists name for
       the category (unticked: tick to add), then a second click that says whom it summons */
    const whistleDrafts = new Map();   // case id → departments ticked, kept across a redraw
    function whistleBox(id, p, listed, known) {
      const plan = p.plan.map((x) => x.department);
      const extra = ((listed && listed.departments) || []).filter((d) => !plan.includes(d));
      const ticked = whistleDrafts.get(id) || new Set(plan);
      const box = (d, role) => el("label", { class: "check" }, el("input", { type: "checkbox", name: "whistle-dep", value: d,
        id: `whistle-${d}`, checked: ticked.has(d), onchange: (ev) => {
          const now = new Set(whistleDrafts.get(id) || ticked);
          if (ev.target.checked) now.add(d); else now.delete(d);
          whistleDrafts.set(id, now); confirmRow.replaceChildren();
        } }), ` ${unitName(known, d)}${role ? `（${role}）` : ""}`);
      const confirmRow = el("div", { id: "whistle-confirm-row" });
      const chosen = () => { const now = whistleDrafts.get(id) || ticked; return [...plan, ...extra].filter((d) => now.has(d)); };
      const send = () => {
        const deps = chosen();
        const body = { mode: "township", whistler: me.unit_code };
        const fromPlan = deps.filter((d) => plan.includes(d)); const added = deps.filter((d) => !plan.includes(d));
        if (fromPlan.length !== plan.length) body.only_departments = fromPlan;
        if (added.length) body.add_departments = added;
        whistleDrafts.delete(id);
        act(id, "whistle", body);
      };
      const ask = () => {
        const deps = chosen();
        if (!deps.length) { sayHere(id, t("whistle_choose"), null); return; }
        const sep = GISE.lang() === "zh" ? "、" : ", ";
        confirmRow.replaceChildren(el("div", { class: "notice warn", role: "status" },
          t("whistle_will_summon", { list: deps.map((d) => unitName(known, d)).join(sep) }), " ",
          el("button", { id: "whistle-confirm", type: "button", class: "primary", onclick: send }, t("whistle_confirm")),
          el("button", { id: "whistle-cancel", type: "button", onclick: () => confirmRow.replaceChildren() }, t("cancel"))));
        $("whistle-confirm").focus();
      };
      const lead = p.plan.find((x) => x.role === "lead");
      return el("fieldset", { id: "whistle-box" }, el("legend", { text: t("whistle_title") }),
        ...p.plan.map((x) => box(x.department, x === lead ? t("role_lead") : t("role_assist"))),
        extra.length ? el("div", { class: "small muted", text: t("whistle_may_add") }) : null,
        ...extra.map((d) => box(d, null)),
        el("div", { class: "row" }, el("button", { id: "whistle", type: "button", class: "primary", onclick: ask }, t("whistle"))),
        confirmRow);
    }
    /* 改类: the category the case is handled under — a report of unknown category (类别待定) or a wrong guess; the
       lists' rule is matched again, so the plan above follows */
    function reclassifyBox(id, p, unclassified) {
      const choices = categories.filter((c) => !c.classify_first && c.code !== p.category);
      const typed = typedIn("reclassify-to", id);
      const select = el("select", { id: "reclassify-to", "data-case": id, "aria-label": t("reclassify_to") },
        el("option", { value: "", text: t("reclassify_pick") }),
        ...choices.map((c) => el("option", { value: c.code, text: `${catName(c.code)} · ${c.code}` })));
      if (typed) select.value = typed;
      const reason = el("input", { type: "text", id: "reclassify-reason", "data-case": id, value: typedIn("reclassify-reason", id) || null,
        placeholder: t("reclassify_reason"), "aria-label": t("reclassify_reason") });
      const send = () => {
        if (!select.value) { sayHere(id, t("reclassify_need"), "reclassify-to"); return; }
        act(id, "reclassify", { township: me.unit_code, category: select.value, reason: reason.value.trim() || null },
          t("reclassified", { name: catName(select.value) }), ["reclassify-reason"]);
      };
      return el("fieldset", { id: "reclassify", class: unclassified ? "urgent" : null },
        el("legend", { text: t("reclassify_title") }),
        p.reported_category ? el("p", { class: "small muted", text: t("reported_as", { name: catName(p.reported_category) }) }) : null,
        el("div", { class: "row" }, el("div", { class: "grow" }, select),
          el("div", { class: "grow" }, reason),
          el("button", { id: "reclassify-send", type: "button", class: unclassified ? "primary" : null, onclick: send }, t("reclassify"))));
    }
    /* a duplicate (of which case, with its link) or a declined case (why), and 恢复受理 with a reason */
    function settled(id, p, timeline) {
      const call = timeline.events.filter((e) => e.kind === (p.status === "duplicate" ? "mark_duplicate" : "reject")).pop();
      const firstId = call && call.payload && call.payload.duplicate_of;
      const said = p.status === "duplicate"
        ? el("div", { class: "notice info settled", role: "status" }, t("marked_duplicate_of", { id: firstId ? String(firstId).slice(0, 8) : "—" }), " ",
          firstId ? el("a", { href: "#", class: "case-link", "data-case": firstId, onclick: (ev) => { ev.preventDefault(); open(firstId); } }, t("open_first")) : null)
        : el("div", { class: "notice info settled", role: "status", text: t("rejected_because", { reason: (call && call.payload && call.payload.reason) || "—" }) });
      const reason = el("input", { type: "text", id: "reinstate-reason", "data-case": id, value: typedIn("reinstate-reason", id) || null,
        "aria-label": t("reinstate_reason"), placeholder: t("reinstate_reason") });
      const reinstate = () => {
        if (!reason.value.trim()) { sayHere(id, t("need_reason"), "reinstate-reason"); return; }
        act(id, "reinstate", { township: me.unit_code, reason: reason.value.trim() }, t("reinstate"), ["reinstate-reason"]);
      };
      return [said, el("div", { class: "row" }, el("div", { class: "grow" }, reason),
        el("button", { id: "reinstate", type: "button", class: "primary", onclick: reinstate }, t("reinstate")))];
    }
    function ratingShown(r) {
      return el("span", { class: "small rated", text: `${t("rated")}: ${t("rate_time")} ${r.timeliness} · ${t("rate_adequacy")} ${r.adequacy}` });
    }
    // what the dispatcher has chosen but not yet sent, by assignment: a redraw of the detail (an event arriving)
    // keeps it instead of resetting the form under their hand
    const ratingDrafts = new Map();
    function rating(a, id) {
      const draft = ratingDrafts.get(a.id) || {};
      // no score is chosen for the dispatcher: a hurried click must not send 5/5
      // each score says what it means (5 best); a 不满意 on duty (adequacy ≤ 2) raises W04 on the department: the
      // page says so and asks for a second click and a reason before it is sent — a rating is given once
      const pick = (label, key) => {
        const select = el("select", { "aria-label": label, "data-rate": key },
          [el("option", { value: "", text: "—" }), ...[5, 4, 3, 2, 1].map((n) => el("option", { value: n, text: `${n} ${t(`rate_${n}`)}` }))]);
        if (draft[key]) select.value = draft[key];
        select.addEventListener("change", () => { ratingDrafts.set(a.id, { ...(ratingDrafts.get(a.id) || {}), [key]: select.value }); warn.replaceChildren(); });
        return select;
      };
      const time = pick(t("rate_time"), "timeliness"); const adequacy = pick(t("rate_adequacy"), "adequacy");
      const comment = el("input", { type: "text", "data-rate": "comment", "aria-label": t("rate_comment"), placeholder: t("rate_comment"),
        value: draft.comment || null, oninput: () => ratingDrafts.set(a.id, { ...(ratingDrafts.get(a.id) || {}), comment: comment.value }) });
      const warn = el("div", { class: "rate-warn" });
      const send = async () => {
        try {
          await api(`/api/v1/assignments/${a.id}/rating`, { method: "POST", body: { township: me.unit_code, timeliness: Number(time.value),
            adequacy: Number(adequacy.value), comment: comment.value.trim() || null } });
          ratingDrafts.delete(a.id);
          flash("ok", `${t("rate")} ✓`);
        } catch (e) { failure(e); }
        await open(id, { quiet: true });
      };
      return el("div", { class: "small" }, el("div", { class: "row" }, el("label", { text: t("rate_time") }, time), el("label", { text: t("rate_adequacy") }, adequacy)),
        el("div", { class: "row" }, el("div", { class: "grow" }, comment), el("button", { type: "button", class: "rate-send", onclick: () => {
          if (!time.value || !adequacy.value) { flash("bad", t("need_rating")); (time.value ? adequacy : time).focus(); return; }
          if (Number(adequacy.value) <= 2) {
            if (!comment.value.trim()) { flash("bad", t("rate_poor_reason")); comment.focus(); return; }
            warn.replaceChildren(el("div", { class: "notice warn", role: "status" }, t("rate_poor_warns"), " ",
              el("button", { type: "button", class: "danger rate-confirm", onclick: send }, t("rate_confirm"))));
            return;
          }
          send();
        } }, t("rate_send"))), warn);
    }
    // a command that succeeds empties the inputs it sent (``sent``: their ids); the detail's redraw keeps the others
    /* the answer of the last command, shown in the detail next to its buttons as well as in the flash bar at the
       top (which may be far above the viewport) */
    let answer = null;
    async function act(id, verb, body, label, sent = []) {
      try {
        const r = await api(`/api/v1/incidents/${id}/${verb}`, { method: "POST", body });
        const known = await unitNames();
        const facts = r && r.pending_departments && r.pending_departments.length ? pendingWords(r.pending_departments, known)
          : r && r.pending ? String(r.pending) : "";
        const pending = facts ? ` · ${t("pending_close")}${facts}` : "";
        const text = `${label || t(verb === "whistle" ? "whistled" : verb)} ✓${pending}`;
        flash("ok", text); answer = { id, kind: "ok", text };
        for (const input of sent.map((x) => document.getElementById(x)).filter(Boolean)) input.value = "";
      } catch (e) {
        const known = await unitNames();
        const text = e instanceof ApiError && e.field === "status" && e.detail && Array.isArray(e.detail.pending) && e.detail.pending.length
          ? `${t("close_refused")}${pendingWords(e.detail.pending, known)}`
          : e instanceof ApiError && e.field === "duplicate_of" ? duplicateRefused(e) : GISE.failureText(e);
        flash("bad", text); answer = { id, kind: "bad", text };
      }
      await load(); await open(id);
    }
    /* who a case waits for before it closes, from the facts the server gives ({department, role, status}: a close
       refused, a verify that could not close): the departments by name, their states in the page's words */
    function pendingWords(pending, known) {
      const sep = GISE.lang() === "zh" ? "、" : ", ";
      const named = (role) => pending.filter((x) => x.role === role).map((x) => `${unitName(known, x.department)}（${t(`asg_${x.status}`)}）`).join(sep);
      const lead = named("lead"); const assists = named("assist");
      return [lead ? t("lead_pending", { list: lead }) : null, assists ? t("assists_pending", { list: assists }) : null]
        .filter(Boolean).join(GISE.lang() === "zh" ? "；" : "; ");
    }
    /* a first case the server refused, by what was wrong with it (detail.problem); a malformed id has none */
    function duplicateRefused(e) {
      const problem = e.detail && e.detail.problem;
      return t({ none: "dup_none", self: "dup_self", not_found: "dup_not_found", not_in_hand: "dup_first_closed", far: "dup_far" }[problem] || "dup_bad_id");
    }
    return { start };
  })();

  /* ======================= department ======================= */
  const Department = (() => {
    let items = []; let selected = null;
    // offline: the list shown is the one last loaded (``loadedAt``, ISO), not the server's answer of now
    let offline = false; let loadedAt = null;
    const LEAD_OWES = new Set(["whistled", "in_action", "reopened"]);
    function start() {
      $("department-view").classList.remove("hidden");
      $("choose-task").textContent = t("choose_task");   // the desk has no map: a task is chosen in the list
      $("department-view").prepend(el("div", { id: "ri-queue", "aria-live": "polite" }));
      queuedBanner();
      load();
      setInterval(load, 15000);
      onEvent((e) => { load(); if (selected && e.incident_id === selected.incident_id && e.actor !== me.username) open(selected.id); });
      // what waits on the device goes when the page is online again, when it is opened, and on a timer; online
      // again, the desk reads its list from the server (and leaves the kept one)
      window.addEventListener("online", async () => { if (!await sendQueued()) load(); });
      sendQueued();
      setInterval(sendQueued, 10000);
    }

    /* ---------- the desk without signal ----------
       Every list the server gives is kept on the device (KEPT_KEY, this officer's only). When the server cannot be
       reached — the page opened on site with no signal, from the service worker — the desk shows that list, marked
       离线 · 上次更新 HH:MM, and an assignment opens to what the list holds of it with 报到 only: the report-in is
       queued as above. Nothing else is offered offline (each would only fail). Online again, the next load (a
       timer, the online event, a report-in sent) draws the server's list and the detail again. */
    function keepList(list) {
      loadedAt = new Date().toISOString();
      try { localStorage.setItem(KEPT_KEY, JSON.stringify({ owner: me.username, loaded_at: loadedAt, items: list })); }
      catch { /* the device's storage is full: the list is not kept, the desk goes on */ }
    }
    /* this officer's kept list, or null; another user's is dropped (only one user is signed in on a device) */
    function keptList() {
      let kept = null;
      try { kept = JSON.parse(localStorage.getItem(KEPT_KEY) || "null"); } catch { kept = null; }
      if (kept && kept.owner !== me.username) { localStorage.removeItem(KEPT_KEY); return null; }
      return kept && Array.isArray(kept.items) ? kept : null;
    }
    /* "14:05" today, "11/26 14:05" on another day: when the list shown was loaded, on the district's clock */
    const dayOf = (d) => new Intl.DateTimeFormat("en-CA", { timeZone: GISE.zone(), year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
    const loadedWhen = (iso) => (dayOf(new Date(iso)) === dayOf(new Date()) ? clockTime(iso) : GISE.when(iso));
    /* the server could not be reached: the list as last loaded, marked. A detail already open is left as it is
       (what the officer typed in it stays; its buttons say 网络不可用 if pressed, and 报到 queues) */
    function goOffline() {
      if (!loadedAt) {   // opened offline: the list kept on the device
        const kept = keptList();
        if (kept) { items = kept.items; loadedAt = kept.loaded_at; }
      }
      offline = true;
      showOffline();
      drawList();
    }
    function showOffline() {
      const box = $("asg-offline");
      box.classList.toggle("hidden", !offline);
      box.replaceChildren(...(!offline ? [] : loadedAt
        ? [el("strong", { text: t("asg_offline", { at: loadedWhen(loadedAt) }) }), el("div", { class: "small", text: t("asg_offline_hint") })]
        : [el("strong", { text: t("asg_offline_none") })]));
    }
    /* an assignment as the kept list holds it, opened offline: the case's place, the deadline with its countdown,
       and 报到 (or the report-in already waiting) — the only action offered without the network */
    function openOffline(a) {
      ++opening;   // a load of the detail from the server still under way is not drawn over this
      selected = a;
      const box = $("asg-detail");
      const out = el("div", { id: "asg-msg", "aria-live": "polite" });
      const say = (kind, text) => notice(out, kind, text);
      const waiting = a.status === "summoned" ? queuedFor(a.id) : null;
      const place = [a.township_name, a.village_name].filter(Boolean).join(" ");
      const parts = [el("h2", { id: "asg-detail-title", text: `${categoryOf(a)} · ${GISE.statusName(a.case_status)}` }),
        el("dl", { class: "small" },
          el("dt", { text: t("location") }), el("dd", { text: `${place}${typeof a.lon === "number" ? ` · ${a.lon.toFixed(5)}, ${a.lat.toFixed(5)}` : ""}` }),
          a.observed_at ? el("dt", { text: t("observed") }) : null, a.observed_at ? el("dd", { text: GISE.when(a.observed_at) }) : null,
          el("dt", { text: t("role") }), el("dd", { text: a.role === "lead" ? t("role_lead") : t("role_assist") })),
        el("p", { class: "due" }, el("strong", { text: `${t(resolving(a) ? "resolution_due" : "due")}: ` }), GISE.when(dueOf(a)), " · ",
          countdownOf(a, true)),
        el("div", { id: "asg-offline-only", class: "notice info small", role: "status", text: t("asg_offline_only") }), out,
        waiting ? queuedNotice(waiting, "report-in-queued")
          : a.status === "summoned" ? reportInButton(a, say)
            : el("p", { class: "small muted", text: `${t(`asg_${a.status}`)} · ${t("asg_offline_nothing")}` })];
      box.dataset.assignment = String(a.id);
      box.dataset.signature = "offline";   // the server's detail is drawn over it once online
      redraw(box, parts);
      tickCountdowns();
    }
    /* a task's category: its Chinese name on the Chinese page; on the English page the lists' English name, or —
       the lists not read yet (opened offline) — the code with the Chinese name the list gave */
    const categoryOf = (a) => {
      if (a.category_zh && GISE.lang() === "zh") return a.category_zh;
      const named = catName(a.category);
      return named === a.category && a.category_zh ? `${a.category} ${a.category_zh}` : named;
    };

    /* ---------- report-ins without signal ----------
       Pressed where there is no signal (the call cannot reach the server: not a refusal), the report-in is kept
       on the device with its position and ``fixed_at`` (the device's clock at the fix) and sent once online with
       ``device_time`` (the same clock, now): the server times it at its own clock less that wait, so an officer
       on site in time is not counted late for having had no signal. Both times go to the millisecond (ISO, UTC):
       the wait is all the server takes of them. Each is sent once: any answer of the server
       (accepted, refused, already recorded) ends it; only a call that cannot get through, or a server that
       cannot answer now (5xx, 408, 429, a sign-in to renew), leaves it for the next try. */
    const myQueued = () => queuedOf(me.username);
    const queuedFor = (assignmentId) => myQueued().find((q) => q.assignment_id === assignmentId);
    const dropQueued = (assignmentId) => queuedKeep(queuedAll().filter((q) => !(q.owner === me.username && q.assignment_id === assignmentId)));
    /* "01:20": the time of the fix on the district's clock */
    const clockTime = (iso) => new Intl.DateTimeFormat(GISE.lang() === "zh" ? "zh-CN" : "en-GB",
      { timeZone: GISE.zone(), hourCycle: "h23", hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
    const queuedNotice = (q, id) => el("div", { id, class: "notice warn small ri-pending", role: "status",
      "data-assignment": q.assignment_id, text: t("ri_queued", { at: clockTime(q.fixed_at) }) });
    function queuedBanner() {
      const box = $("ri-queue");
      if (!box) return;
      const n = myQueued().length;
      box.replaceChildren(...(n ? [el("div", { class: "notice warn row", role: "status" },
        el("span", { class: "grow", text: t("ri_queued_banner", { n }) }),
        el("button", { type: "button", id: "ri-send-now", onclick: () => sendQueued() }, t("ri_send_now")))] : []));
    }
    function queueReportIn(a, body, fixed) {
      const known = queuedFor(a.id);
      if (known) return known;   // the first fix stands: the officer was there then
      const q = { owner: me.username, assignment_id: a.id, incident_id: a.incident_id, department: a.department,
        ...body, fixed_at: fixed.toISOString(), queued_at: Date.now() };
      queuedKeep([...queuedAll(), q]);
      return q;
    }
    let sending = false;
    /* true when something was sent (the desk is then loaded again) */
    async function sendQueued() {
      if (sending || !navigator.onLine || !GISE.session() || !myQueued().length) return false;
      sending = true;
      const said = [];
      try {
        for (const q of myQueued().sort((x, y) => x.queued_at - y.queued_at)) {
          let result;
          try {
            const r = await api(`/api/v1/assignments/${q.assignment_id}/report-in`, { method: "POST", body: {
              lon: q.lon, lat: q.lat, accuracy_m: q.accuracy_m, fixed_at: q.fixed_at, device_time: new Date().toISOString() } });
            result = r.on_time ? ["ok", t("ri_sent_on_time")] : ["warn", t("ri_sent_late", { n: Math.max(1, Math.round(r.minutes_late)) })];
          } catch (e) {
            if (!(e instanceof ApiError) || e.status >= 500 || [401, 408, 429].includes(e.status)) break;   // kept: tried again later
            result = e.code === "already_recorded" ? ["info", GISE.failureText(e)] : ["bad", t("ri_refused", { why: GISE.failureText(e) })];
          }
          dropQueued(q.assignment_id);
          said.push([q.assignment_id, result]);
        }
      } finally { sending = false; }
      queuedBanner();
      if (!said.length) return false;
      const worst = said.find(([, r]) => r[0] === "bad") || said.find(([, r]) => r[0] === "warn") || said[0];
      flash(worst[1][0], said.map(([, r]) => r[1]).join("；"));
      await load();
      const here = selected && said.find(([id]) => id === selected.id);
      if (here) await open(selected.id, here[1]);
      return true;
    }
    /* the open assignments, and the lead's done ones whose case still awaits its resolution report (or was
       reopened): after 本部门处置完毕 the lead must still reach the case to report it resolved or resume it */
    async function load() {
      let list;
      try {
        const [open, closed] = await Promise.all([api("/api/v1/assignments?open=true&limit=500"), api("/api/v1/assignments?open=false&limit=1")]);
        let waiting = [];
        if (closed.count) {   // soonest due first: the newest are the last page
          const recent = await api(`/api/v1/assignments?open=false&limit=500&offset=${Math.max(0, closed.count - 500)}`);
          waiting = recent.data.filter((a) => a.role === "lead" && a.status === "done" && LEAD_OWES.has(a.case_status));
        }
        list = [...open.data, ...waiting];
        await reopenings(list);
      } catch (e) {
        if (unreachable(e)) goOffline(); else failure(e);
        return;
      }
      items = list;
      keepList(items);
      const back = offline;
      if (back) { offline = false; showOffline(); await catchUp(); }
      drawList();
      if (back && selected) await open(selected.id);   // the detail from the server again, with every action
    }
    function drawList() {
      // owed first: a reopened case waiting for this lead to resume, then by the deadline that is running
      items.sort((x, y) => (owesResume(y) - owesResume(x)) || String(runningDue(x)).localeCompare(String(runningDue(y))));
      $("assignments").replaceChildren(items.length ? el("ul", { class: "plain" }, items.map((a) => el("li", { "data-id": a.id, "data-incident": a.incident_id,
        class: owesResume(a) ? "owed" : null },
        el("button", { type: "button", class: "case", "aria-current": String(selected && selected.id === a.id), onclick: () => (offline ? openOffline(a) : open(a.id)) },
          el("div", { class: "row" }, el("strong", { class: "grow", text: categoryOf(a) }),
            owesResume(a) ? resumeCountdown(a) : countdownOf(a, true)),
          el("div", { class: "small muted", text: `${[a.township_name, a.village_name].filter(Boolean).join(" ")} · ${a.role === "lead" ? t("role_lead") : t("role_assist")} · ${GISE.statusName(a.case_status)} · ${itemLine(a)}` }),
          a.status === "summoned" && queuedFor(a.id) ? queuedNotice(queuedFor(a.id), null) : null)))) :
        el("p", { class: "muted", text: t("no_items") }));
      tickCountdowns();
    }
    /* a lead owes the resumption of its reopened case; the reopen event (who, when, why) is read from the case's
       record, once per reopening */
    const owesResume = (a) => a.role === "lead" && a.case_status === "reopened";
    const reopened = new Map();   // incident id → its last reopen event, while the case stays reopened
    async function reopenings(list) {
      for (const id of [...reopened.keys()]) if (!list.some((a) => a.incident_id === id && owesResume(a))) reopened.delete(id);
      await Promise.all(list.filter((a) => owesResume(a) && !reopened.has(a.incident_id)).map(async (a) => {
        const timeline = await api(`/api/v1/incidents/${a.incident_id}/timeline`);
        const last = timeline.events.filter((e) => e.kind === "reopen").pop();
        if (last) reopened.set(a.incident_id, last);
      }));
    }
    /* the deadline that runs for the department: the resolution due for a lead that reported in (also while its
       case waits to be reported resolved or resumed), else the report-in due */
    const runningDue = (a) => (a.role === "lead" && a.resolution_due && (resolving(a) || (a.status === "done" && LEAD_OWES.has(a.case_status)))
      ? a.resolution_due : a.report_in_due);
    const resumeCountdown = (a) => (a.resolution_due
      ? el("span", { class: "countdown owed", "data-due": a.resolution_due, "data-kind": "resume", "data-done": "false", "data-status": "owed" })
      : el("span", { class: "countdown owed", text: t("resume_owed") }));
    function itemLine(a) {
      if (owesResume(a)) {
        const r = reopened.get(a.incident_id);
        return [t("reopened_resume"), r ? t(r.actor ? "reopened_when_by" : "reopened_when", { at: GISE.when(r.at), by: r.actor }) : null,
          a.resolution_due ? `${t("resolution_due")} ${GISE.when(a.resolution_due)}` : null].filter(Boolean).join(" · ");
      }
      if (a.status === "done") return `${t("done_wait_resolve")}${a.resolution_due ? ` · ${t("resolution_due")} ${GISE.when(a.resolution_due)}` : ""}`;
      return `${t(resolving(a) ? "resolution_due" : "due")} ${GISE.when(dueOf(a))}`;
    }
    let opening = 0;  // as in the township's detail: only the latest load is drawn
    async function open(assignmentId, message) {
      const mine = ++opening;
      let a, f, timeline;
      try {
        a = { ...(items.find((x) => x.id === assignmentId) || {}), ...(await api(`/api/v1/assignments/${assignmentId}`)) };
        [f, timeline] = await Promise.all([api(`/api/v1/incidents/${a.incident_id}`), api(`/api/v1/incidents/${a.incident_id}/timeline`)]);
      } catch (e) {
        // the signal went while it was opening: the desk turns to what the device holds
        if (unreachable(e) && mine === opening) {
          goOffline();
          const kept = items.find((x) => x.id === assignmentId);
          if (kept) openOffline(kept);
          return;
        }
        failure(e); return;
      }
      if (mine !== opening) return;
      selected = a;
      const box = $("asg-detail");
      const out = el("div", { id: "asg-msg", "aria-live": "polite" });
      const say = (kind, text) => notice(out, kind, text);
      if (message) say(...message);
      /* a command that succeeds empties the inputs it sent (``sent``: their ids) before the panel is drawn again;
         every other input keeps what the officer typed, whichever redraw lands first */
      const post = async (path, body, ok, sent = []) => {
        let r;
        try { r = await api(path, { method: "POST", body }); } catch (e) {
          say("bad", GISE.failureText(e)); return null;
        }
        for (const id of sent) {
          const input = document.getElementById(id);
          if (input && input.type === "checkbox") input.checked = false;
          else if (input && input.tagName === "SELECT") input.selectedIndex = 0;
          else if (input) input.value = input.defaultValue;
        }
        await load(); await open(a.id, ["ok", ok(r)]); return r;
      };
      const base = `/api/v1/incidents/${a.incident_id}/assignments/${a.department}`;
      const owed = a.role === "lead" && f.properties.status === "reopened";
      const reopening = f.properties.status === "reopened" ? timeline.events.filter((e) => e.kind === "reopen").pop() : null;
      const known = await unitNames();
      const parts = [el("h2", { id: "asg-detail-title", text: `${catName(f.properties.category)} · ${GISE.statusName(f.properties.status)}` }),
        caseFacts(f), ...caseNotices(f.properties, null),
        reopening ? reopenNotice(reopening, owed ? t("reopened_resume") : "") : null,
        owed && a.resolution_due
          ? el("p", { class: "due" }, el("strong", { text: `${t("resolution_due")}: ` }), GISE.when(a.resolution_due), " · ", resumeCountdown(a))
          : el("p", { class: "due" }, el("strong", { text: `${t(resolving(a) ? "resolution_due" : "due")}: ` }), GISE.when(dueOf(a)), " · ",
            countdownOf(a, true)), out].filter(Boolean);
      const photos = await photoStrip(a.incident_id);
      if (mine !== opening) return;
      // nothing the panel shows has changed (a click on the open item, an event about something else): it is left
      // as it is, with what the officer is typing and where — a redraw under the hand loses keystrokes
      const sig = JSON.stringify([a, f.properties, photos ? photos.querySelectorAll("img").length : 0, timeline.events.length,
        queuedFor(a.id) || null]);
      if (box.dataset.assignment === String(a.id) && box.dataset.signature === sig && $("asg-msg")) {
        if (message) notice($("asg-msg"), ...message);
        tickCountdowns();
        return;
      }
      if (photos) parts.push(photos);
      const status = f.properties.status;
      const waiting = a.status === "summoned" ? queuedFor(a.id) : null;
      if (waiting) {
        parts.push(queuedNotice(waiting, "report-in-queued"));   // recorded on the device: sent once online
      } else if (a.status === "summoned") {
        parts.push(reportInButton(a, say));
        if (me.role === "department_chief") parts.push(declineForm(a, post, say));
      } else if (a.status === "reported_in") {
        parts.push(el("p", { class: "small muted", text: t("start_first") }),
          el("button", { id: "start", type: "button", class: "primary", onclick: () => post(`${base}/start`, {}, () => t("start")) }, t("start")));
      } else if (a.status === "acting") {
        parts.push(actionForm(a, f, post, say),
          el("button", { id: "complete", type: "button", style: "margin-top:1rem", onclick: () => post(`${base}/complete`, {}, () => t("complete")) }, t("complete")));
      } else if (a.status === "done" && a.role === "lead" && ["whistled", "in_action"].includes(status)) {
        const summary = el("input", { type: "text", id: "resolve-summary" });
        parts.push(el("p", { class: "small muted", text: t("done_wait_resolve") }),
          el("label", { for: "resolve-summary", text: t("resolve_summary") }), summary,
          el("button", { id: "resolve", type: "button", class: "primary", style: "margin-top:.5rem", onclick: () => post(`/api/v1/incidents/${a.incident_id}/resolve`,
            { department: a.department, summary: summary.value }, () => `${t("resolve")} ✓`, ["resolve-summary"]) }, t("resolve")));
      }
      if (a.role === "lead" && status === "reopened") {
        parts.push(el("button", { id: "resume", type: "button", class: "primary", onclick: () => post(`/api/v1/incidents/${a.incident_id}/resume`,
          { department: a.department }, () => `${t("resume")} ✓`) }, t("resume")));
      }
      const file = el("input", { type: "file", id: "asg-photo", class: "sr-only", accept: "image/jpeg,image/png,image/webp", capture: "environment",
        onchange: async () => {
          if (!file.files.length) return;
          const form = new FormData(); form.append("file", file.files[0]);
          try { await api(`/api/v1/incidents/${a.incident_id}/photos`, { method: "POST", body: form }); say("ok", `${t("photo_upload")} ✓`); } catch (e) { say("bad", GISE.failureText(e)); }
          file.value = "";
        } });
      parts.push(el("h3", { text: t("photos") }), file, el("label", { for: "asg-photo", class: "button-like", text: t("photo_upload") }));
      const task = el("input", { type: "text", id: "fu-task" });
      const days = el("input", { type: "number", id: "fu-days", min: "1", max: "365", value: "5" });
      parts.push(el("h3", { text: t("follow_up") }), el("label", { for: "fu-task", text: t("follow_up_task") }), task,
        el("label", { for: "fu-days", text: t("working_days") }), days,
        el("button", { type: "button", style: "margin-top:.5rem", onclick: () => post(`/api/v1/incidents/${a.incident_id}/follow-ups`,
          { department: a.department, task: task.value, working_days: Number(days.value) }, () => `${t("follow_up")} ✓`, ["fu-task", "fu-days"]) }, t("send")));
      const records = timeline.events.filter((e) => e.kind === "enforcement_record" && e.payload && e.payload.department === a.department);
      if (records.length || a.status === "acting") parts.push(recordList(records));
      if (a.role === "lead" && a.reported_in_at && ["whistled", "in_action", "reopened"].includes(status)) {
        parts.push(await leadWhistle(a, f, post, say));
        if (mine !== opening) return;
      }
      if (timeline.events.length) parts.push(history(timeline.events, known));
      // drawn again (an event, a poll, a command's answer), the panel keeps what the officer was typing
      if (box.dataset.assignment === String(a.id)) {
        const fresh = el("div", {}, ...parts);
        for (const input of box.querySelectorAll("input[type=text], input[type=number]")) {
          const now = input.id && fresh.querySelector(`#${input.id}`);
          if (now && input.value && input.value !== input.defaultValue) now.value = input.value;
        }
        for (const input of box.querySelectorAll("input[type=checkbox]:checked")) {
          const now = input.id && fresh.querySelector(`#${input.id}`);
          if (now) now.checked = true;
        }
        for (const input of box.querySelectorAll("select")) {
          const now = input.id && fresh.querySelector(`#${input.id}`);
          if (now && [...now.options].some((o) => o.value === input.value)) now.value = input.value;
        }
      }
      box.dataset.assignment = String(a.id);
      box.dataset.signature = sig;
      redraw(box, parts);
      tickCountdowns();
    }
    /* 报到: the phone's position sent at once, or — no signal (the call cannot reach the server: not a refusal) —
       kept on the device with its fix and sent once online */
    function reportInButton(a, say) {
      return el("button", { id: "report-in", type: "button", class: "primary", onclick: async (ev) => {
        const button = ev.currentTarget;
        let pos;
        try { pos = await GISE.position(); } catch (e) { say("bad", GISE.geoReason(e)); return; }
        // the time of the fix on the device's clock — the clock device_time is read from when it is sent
        const fixed = new Date();
        const body = { lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy_m: pos.coords.accuracy };
        if (navigator.onLine) {
          try {
            const r = await api(`/api/v1/assignments/${a.id}/report-in`, { method: "POST", body: { ...body, device_time: GISE.isoLocal(fixed) } });
            await load(); await open(a.id, ["ok", t("report_in_ok", { d: Math.round(r.distance_m) })]);
            return;
          } catch (e) {
            // the server answered: a refusal. A sign-in that ran out meanwhile keeps it for the next sign-in
            if (!unreachable(e) && !signedOut(e)) { say("bad", GISE.failureText(e)); return; }
            if (signedOut(e)) setTimeout(expired, 0);
          }
        }
        // no signal: kept on the device, sent once online
        const q = queueReportIn(a, body, fixed);
        if (button.isConnected) button.replaceWith(queuedNotice(q, "report-in-queued"));
        say("warn", t("ri_queued", { at: clockTime(q.fixed_at) }));
        queuedBanner(); drawList();
      } }, t("report_in"));
    }
    /* 执法记录: the kind of action (``action_type``, chosen from the lists' kinds by name, sent as its code), the
       measures the lists name for the case's category (ticked, sent as ``measures``, which is what 职权履行率
       counts), officer and penalty */
    function actionForm(a, f, post, say) {
      const cat = categories.find((c) => c.code === f.properties.category);
      const listed = (cat && cat.measures) || [];
      const boxes = listed.map((m, i) => el("label", { class: "check" },
        el("input", { type: "checkbox", name: "measure", value: m, id: `measure-${i}` }), ` ${m}`));
      const kind = el("select", { id: "action-type" }, el("option", { value: "", text: t("action_kind_choose") }),
        actionKinds.map((k) => el("option", { value: k.code, text: GISE.lang() === "zh" ? k.zh : k.en })));
      const officer = el("input", { type: "text", id: "action-officer", value: me.display_name || me.username });
      const penalty = el("input", { type: "number", id: "action-penalty", min: "0", step: "1" });
      return el("div", { id: "action-form" }, el("h3", { text: t("action") }),
        el("fieldset", { id: "measures" }, el("legend", { text: `${t("measures")} · ${f.properties.category}` }),
          boxes.length ? boxes : el("p", { class: "small muted", text: t("measures_none") })),
        el("label", { for: "action-type", text: t("action_kind") }), kind,
        el("label", { for: "action-officer", text: t("officer") }), officer,
        el("label", { for: "action-penalty", text: t("penalty") }), penalty,
        // what the record will cite, as the lists say it: seen before 记录, not only after
        el("div", { id: "action-legal", class: "small" }, el("strong", { text: `${t("legal_basis")}：` }),
          legalWords((cat && cat.legal_basis) || []) || "—"),
        el("button", { id: "record", type: "button", style: "margin-top:.5rem", onclick: async (ev) => {
          const button = ev.currentTarget;
          if (button.disabled) return null;   // a second tap while the first is on its way records nothing twice
          const measures = boxes.map((b) => b.querySelector("input")).filter((x) => x.checked).map((x) => x.value);
          if (!kind.value) { say("bad", t("need_action")); kind.focus(); return null; }
          button.disabled = true; button.textContent = t("recording");
          try {
            return await post(`/api/v1/assignments/${a.id}/actions`, { action_type: kind.value, measures, officer: officer.value,
              penalty_amount: penalty.value ? Number(penalty.value) : null }, () => `${t("action")} ✓`,
              ["action-type", "action-penalty", ...boxes.map((b) => b.querySelector("input").id)]);
          } finally { button.disabled = false; button.textContent = t("record"); }
        } }, t("record")));
    }
    /* a legal basis ([{law, article}]) in words: 《水法》第三十九条 style, each once */
    function legalWords(basis) {
      const zh = GISE.lang() === "zh";
      const article = (b) => (b.article && b.article !== "—" ? b.article : "");
      return basis.map((b) => (zh ? `${/^《/.test(b.law) ? b.law : `《${b.law}》`}${article(b)}` : `${b.law} ${article(b)}`.trim()))
        .join(zh ? "、" : "; ");
    }
    /* 本案执法记录: what this department recorded on the case (from the case's record), newest first */
    function recordList(records) {
      const kindName = (code) => { const k = actionKinds.find((x) => x.code === code); return k ? (GISE.lang() === "zh" ? k.zh : k.en) : code; };
      const money = (n) => Number(n).toLocaleString(GISE.lang() === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: 2 });
      return el("div", { id: "records" }, el("h3", { text: t("records") }), records.length
        ? el("ul", { class: "plain small" }, records.slice().reverse().map((e) => el("li", { class: "record", "data-record": e.payload.record_id },
          el("span", { class: "muted", text: `${GISE.when(e.at)} ` }),
          el("strong", { text: kindName(e.payload.action_type) }),
          (e.payload.measures || []).length ? ` · ${e.payload.measures.join("、")}` : "",
          e.payload.penalty_amount !== null && e.payload.penalty_amount !== undefined ? ` · ${t("penalty_yuan", { n: money(e.payload.penalty_amount) })}` : "",
          e.payload.officer ? el("span", { class: "muted", text: ` · ${t("officer")} ${e.payload.officer}` }) : null,
          (e.payload.legal_basis || []).length ? el("div", { class: "legal muted", text: `${t("legal_basis")}：${legalWords(e.payload.legal_basis)}` }) : null)))
        : el("p", { class: "small muted", text: t("records_none") }));
    }
    /* 一门主责、其他配合: the lead, once on site, whistles the assisting departments of the case's plan (the lists')
       that are not summoned yet */
    async function leadWhistle(a, f, post, say) {
      let on = [];
      try { on = (await api(`/api/v1/incidents/${a.incident_id}/assignments`)).data.map((x) => x.department); } catch { on = [a.department]; }
      const free = (f.properties.plan || []).filter((x) => x.department !== a.department && !on.includes(x.department));
      const box = el("fieldset", { id: "lead-whistle" }, el("legend", { text: t("lead_whistle") }));
      if (!free.length) { box.append(el("p", { class: "small muted", text: t("lead_whistle_none") })); return box; }
      const boxes = free.map((x) => el("label", { class: "check" },
        el("input", { type: "checkbox", name: "assist", value: x.department, id: `assist-${x.department}` }), ` ${x.department_name || x.department}`));
      box.append(...boxes, el("button", { id: "lead-whistle-send", type: "button", style: "margin-top:.5rem", onclick: () => {
        const chosen = boxes.map((b) => b.querySelector("input")).filter((x) => x.checked).map((x) => x.value);
        if (!chosen.length) { say("bad", t("lead_whistle_choose")); return null; }
        return post(`/api/v1/incidents/${a.incident_id}/whistle`, { mode: "lead_department", whistler: a.department, add_departments: chosen },
          () => `${t("lead_whistled")} ✓`, boxes.map((b) => b.querySelector("input").id));
      } }, t("lead_whistle_send")));
      return box;
    }
    /* 退单: a department chief declines a whistle with a reason; a listed lead needs a ground */
    function declineForm(a, post, say) {
      const reason = el("input", { type: "text", id: "decline-reason" });
      const ground = el("select", { id: "decline-ground" }, ["", "wrong_category", "outside_jurisdiction"].map((g) =>
        el("option", { value: g, text: t(g ? `ground_${g}` : "ground_none") })));
      return el("div", { id: "decline-form" }, el("h3", { text: t("decline") }),
        el("label", { for: "decline-reason", text: t("decline_reason") }), reason,
        a.role === "lead" ? el("label", { for: "decline-ground", text: t("decline_ground") }) : null, a.role === "lead" ? ground : null,
        el("button", { id: "decline", type: "button", class: "danger", style: "margin-top:.5rem", onclick: () => {
          if (!reason.value.trim()) { say("bad", t("need_reason")); return null; }
          return post(`/api/v1/assignments/${a.id}/decline`, { reason: reason.value.trim(), ground: a.role === "lead" && ground.value ? ground.value : null },
            () => `${t("decline")} ✓`, ["decline-reason", "decline-ground"]);
        } }, t("decline")));
    }
    return { start };
  })();

  /* ======================= supervisor ======================= */
  const Supervisor = (() => {
    function start() {
      $("supervisor-view").classList.remove("hidden");
      $("eval-period").value = String(new Date().getFullYear());
      $("eval-by").onchange = evaluation; $("eval-period").onchange = evaluation;
      warnings(); evaluation(); maps(); plans();
      onEvent((e) => { if (e.kind === "warning") warnings(); });
    }
    async function warnings() {
      let rows;
      try { rows = (await api("/api/v1/warnings?limit=100")).data; } catch (e) { failure(e); return; }
      const known = await unitNames();
      $("warnings").replaceChildren(rows.length ? table([t("time"), t("level"), t("rule"), t("subject"), t("case"), t("consequence")],
        rows.map((w) => el("tr", { "data-rule": w.rule_code, class: w.withdrawn_at ? "withdrawn" : w.level === "red" ? "late" : null },
          el("td", { text: GISE.when(w.raised_at) }), el("td", { text: levelName(w.level) }), el("td", { text: w.rule_code }),
          el("td", { text: subjectName(known, w) }), el("td", { class: "small", text: (w.incident_id || "").slice(0, 8) }),
          el("td", { text: w.withdrawn_at ? t("warning_withdrawn", { at: GISE.when(w.withdrawn_at), why: w.withdrawn_reason || "" }) : w.consequence })))) : el("p", { class: "muted", text: t("no_items") }));
    }
    /* the evaluation's main columns, labelled; ratios as percentages, unknown (null) as "—" */
    /* the score, what it was before the warnings, their points and what they cost per 100 occasions (so the
       busiest are not last for their volume), then the rates; a township's backlog (上报/未处理/分拣及时率) too */
    const EVAL_COLS = ["rank", "ranking", "month", "name", "score", "score_base", "warning_points", "deduction",
      "on_time_rate", "report_in_rate", "duty_rate", "resolution_rate", "outcome_rate", "adequate_rate", "rating_score",
      "whistle_on_time_rate", "triage_on_time_rate", "review_on_time_rate", "follow_up_on_time_rate", "no_recurrence_rate",
      "whistles", "actions", "penalty_amount", "own_warnings", "warnings", "recurrences", "reports", "untriaged", "cases",
      "whistled", "share_whistled", "whistles_sent", "summons"];
    /* a column's label; a township's ``warnings`` are about departments on its cases (部门警示), its own are apart */
    const evalLabel = (c, by) => (c === "warnings" && by === "township" ? t("ev_dept_warnings")
      : c === "resolution_rate" && by === "township" ? t("ev_whistled_resolution_rate")
      : c === "recurrences" && by === "township" ? t("ev_township_recurrences")
      : c === "deduction" && by === "township" ? t("ev_deduction_cases")
        : t(`ev_${c}`));
    const isRatio = (k) => k.endsWith("_rate") || k === "rating_score" || k === "share_whistled";
    function cell(k, v) {
      if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) return "—";
      if (typeof v !== "number") return String(v);
      if (isRatio(k)) return `${(v * 100).toFixed(1)}%`;
      if (k === "score" || k === "score_base" || k === "deduction") return v.toFixed(1);
      if (k === "penalty_amount") return v.toLocaleString(GISE.lang() === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: 2 });
      return Number.isInteger(v) ? String(v) : v.toFixed(2);
    }
    let asked = 0;
    async function evaluation() {
      const ask = ++asked;
      // what was shown belongs to the previous period: cleared before the new one is asked for
      $("evaluation").replaceChildren(); $("eval-chart").replaceChildren();
      let ev;
      try { ev = await api(`/api/v1/evaluation?period=${encodeURIComponent($("eval-period").value)}&by=${$("eval-by").value}&lang=${GISE.lang()}`); } catch (e) {
        if (ask !== asked) return;
        $("evaluation").replaceChildren(el("p", { class: "notice bad", role: "alert", text: `${t("ev_period_bad")}: ${e instanceof ApiError ? e.describe() : String(e.message || e)}` }));
        return;
      }
      if (ask !== asked) return;   // a later period was asked for meanwhile
      const rows = ev.data;
      if (!rows.length) { $("evaluation").replaceChildren(el("p", { class: "muted", text: t("no_items") })); return; }
      const known = await unitNames();
      const unit = (r) => r.name || known[`department:${r.department}`] || known[`township:${r.township_code}`] || r.department || r.township_code || "";
      const cols = EVAL_COLS.filter((k) => k === "name" || k in rows[0]);
      // a unit scored on too few whistles has no rank: the rank cell says why
      const shown = (c, r) => (c === "name" ? unit(r) : c === "rank" && r.small_sample ? t("ev_small_sample")
        : c === "ranking" ? (r.ranking ? t(`ranking_${r.ranking}`) : "—")
        : c === "deduction" && r[c] ? `−${cell(c, r[c])}` : cell(c, r[c]));
      const by = $("eval-by").value;
      const text = (c) => c === "name" || c === "month" || c === "ranking";
      $("evaluation").replaceChildren(table(cols.map((c) => ({ label: evalLabel(c, by), num: !text(c) })), rows.map((r) =>
        el("tr", { "data-unit": r.department || r.township_code || "", class: r.small_sample ? "muted small-sample" : null },
          cols.map((c) => el("td", { class: text(c) ? null : "num", "data-col": c, text: shown(c, r) }))))),
      ...(ev.notes || []).map((n) => el("p", { class: "small muted eval-note", text: n })));
      $("eval-chart").replaceChildren(bars(rows, unit));
    }
    /* score per unit as horizontal bars (SVG; no chart library needed); a unit with no score has no bar, and "—" */
    function bars(rows, unit) {
      const key = ["score", "on_time_rate", "report_in_rate", "share_whistled"].find((k) => rows.some((r) => typeof r[k] === "number"));
      if (!key) return el("span");
      const has = (r) => typeof r[key] === "number" && Number.isFinite(r[key]);
      const max = Math.max(...rows.filter(has).map((r) => r[key]), 1e-9);
      const ns = "http://www.w3.org/2000/svg"; const h = 22; const w = 640;
      const svg = document.createElementNS(ns, "svg");
      svg.setAttribute("viewBox", `0 0 ${w} ${rows.length * h + 24}`); svg.setAttribute("class", "bars");
      svg.setAttribute("role", "img"); svg.setAttribute("aria-label", `${t("evaluation")}: ${t(`ev_${key}`)}`);
      const text = (x, y, s, anchor) => { const n = document.createElementNS(ns, "text"); n.setAttribute("x", x); n.setAttribute("y", y);
        n.setAttribute("font-size", "13"); n.setAttribute("fill", "#111"); if (anchor) n.setAttribute("text-anchor", anchor); n.textContent = s; return n; };
      svg.append(text(0, 14, t(`ev_${key}`)));
      rows.forEach((r, i) => {
        const y = 24 + i * h;
        svg.append(text(154, y + 15, String(unit(r)).slice(0, 12), "end"));
        if (!has(r)) { svg.append(text(166, y + 15, "—")); return; }
        const v = r[key];
        const rect = document.createElementNS(ns, "rect");
        rect.setAttribute("x", 160); rect.setAttribute("y", y + 3); rect.setAttribute("height", h - 8);
        rect.setAttribute("width", Math.max(1, (v / max) * (w - 230))); rect.setAttribute("fill", "#0b4f8a");
        rect.setAttribute("data-unit", r.department || r.township_code || "");
        svg.append(rect, text(166 + (v / max) * (w - 230), y + 15, cell(key, v)));
      });
      return svg;
    }
    async function maps() {
      try {
        const html = await (await fetch("/maps", { credentials: "same-origin" })).text();
        // the index lists each map by its title, with when it was written; its address names the file
        const found = [...new DOMParser().parseFromString(html, "text/html").querySelectorAll("li")]
          .map((li) => ({ a: li.querySelector("a"), when: li.querySelector(".when") }))
          .filter((m) => m.a && /^\/maps\/[\w-]+$/.test(m.a.getAttribute("href") || ""))
          .map((m) => ({ stem: m.a.getAttribute("href").slice(6), title: m.a.textContent, when: m.when ? m.when.textContent : "" }));
        // a map of one case (the dispatch map) is titled by its place: the button says what kind of map it is
        const label = (m) => (m.stem.startsWith("dispatch") ? `${t("map_kind_dispatch")} · ${m.title}` : m.title);
        $("maps").replaceChildren(...(found.length ? found.map((m) => el("button", { type: "button", "data-map": m.stem, title: m.when || null, onclick: () => {
          $("map-frame").src = `/maps/${m.stem}`; $("map-frame").classList.remove("hidden"); $("map-frame").title = m.title;
          // the frame is a window on the page: the whole page, its legends beside the map, opens on its own
          $("map-open").replaceChildren(el("a", { href: `/maps/${m.stem}`, target: "_blank", rel: "noopener" }, t("map_open_full", { title: m.title })));
        } }, label(m)))
          : [el("p", { class: "muted", text: t("no_items") })]));
      } catch { /* no maps written yet */ }
    }
    /* why a plan cannot be executed, as the server would refuse it: its period is over, or it has no planned
       target (everything waits). Empty when it can run; an executed plan's state is its status */
    function planBlocked(p) {
      if (p.status === "executed") return [];
      const why = [];
      if (p.period_end && new Date(p.period_end).getTime() <= Date.now()) why.push("plan_over");
      if (!p.target_count) why.push("plan_no_target");
      return why;
    }
    /* the joint-operation plans: the period on the district's clock, the departments by name, and 执行 only where
       the plan can run — else the row says why */
    async function plans() {
      let rows;
      try { rows = (await api("/api/v1/plans?limit=50")).data; } catch (e) { failure(e); return; }
      const known = await unitNames();
      const sep = GISE.lang() === "zh" ? "、" : ", ";
      const period = (p) => (p.period_start ? `${GISE.when(p.period_start)} – ${GISE.when(p.period_end)}` : "—");
      $("plans").replaceChildren(rows.length ? table(["#", t("plan_period"), t("status"), { label: t("targets"), num: true }, t("department"), ""], rows.map((p) => {
        const blocked = planBlocked(p);
        return el("tr", { "data-plan-row": p.id, "data-blocked": blocked.join(" ") || null },
          el("td", { text: String(p.id) }),
          el("td", { class: "period", title: `${t("created")} ${GISE.when(p.created_at)}`, text: period(p) }),
          el("td", { text: p.status === "executed" ? `${t("executed")} ${GISE.when(p.executed_at)}` : (t(`plan_${p.status}`) !== `plan_${p.status}` ? t(`plan_${p.status}`) : p.status) }),
          el("td", { class: "num", text: String(p.target_count) }),
          el("td", { class: "departments", text: (p.departments || []).map((d) => known[`department:${d}`] || d).join(sep) || "—" }),
          el("td", {}, p.status === "executed" ? null : blocked.length
            ? el("span", { class: "small muted blocked", text: blocked.map((k) => t(k)).join(" · ") })
            : el("button", { type: "button", class: "primary", "data-plan": p.id, onclick: async () => {
              try { await api(`/api/v1/plans/${p.id}/execute`, { method: "POST" }); flash("ok", `${t("executed")} #${p.id}`); } catch (e) { failure(e); }
              plans();
            } }, t("execute"))));
      })) : el("p", { class: "muted", text: t("no_items") }));
    }
    return { start };
  })();

  document.addEventListener("gise:language", () => { if (me) location.reload(); });
  GISE.applyWords();
  start();
  // the service worker of /app (sw.js) keeps this page and its files: opened again with no signal (an officer
  // summoned to a mountain site), the console opens from it, and the department's desk from its kept list
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
})();
