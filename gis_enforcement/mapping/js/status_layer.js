/* The status map's case layer: every case drawn on one canvas, coloured by its status, shaped by its problem
 * family, with a dark ring when a department reported in late. Cases travel as base64 typed-array columns
 * (see gis_enforcement/mapping/packing.py); filters (status, category, month, a day window of the time
 * slider) choose what is drawn; a click opens the case's summary and timeline.
 *
 * Globals used: L (Leaflet), GISE_CASES (the data, see status_map.py).
 */
/* the district's UTC offset in minutes at UTC minute m (D.offsets: [[from minute, offset], …], see packing.py) */
function giseOffset(D, m) {
  var o = D.offsets, k = 0;
  while (k + 1 < o.length && o[k + 1][0] <= m) { k++; }
  return o[k][1];
}

var GiseCases = L.Layer.extend({
  initialize: function (D) {
    this.D = D;
    var n = D.n, c = {};
    for (var key in D.cols) {
      if (Object.prototype.hasOwnProperty.call(D.cols, key)) { c[key] = giseColumn(D.cols[key], D.types[key]); }
    }
    this.c = c;
    this.n = n;
    // normalised web-mercator position of every case, once
    var X = new Float64Array(n), Y = new Float64Array(n), day = new Int32Array(n), month = new Int32Array(n);
    var rad = Math.PI / 180, day0 = Math.floor((D.t0 + giseOffset(D, D.t0)) / 1440), months = {}, m0 = D.months;
    for (var k = 0; k < m0.length; k++) { months[m0[k]] = k; }
    for (var i = 0; i < n; i++) {
      var lon = D.x0 + c.x[i] * D.step, lat = D.y0 + c.y[i] * D.step;
      X[i] = 0.5 + lon / 360;
      Y[i] = 0.5 - Math.log(Math.tan(Math.PI / 4 + lat * rad / 2)) / (2 * Math.PI);
      var minutes = D.t0 + c.t[i];
      minutes += giseOffset(D, minutes);  // the district's clock
      day[i] = Math.floor(minutes / 1440) - day0;
      month[i] = months[new Date(minutes * 60000).toISOString().slice(0, 7)];
    }
    this.X = X; this.Y = Y; this.day = day; this.month = month;
    this.sx = new Float32Array(n); this.sy = new Float32Array(n); this.shown = new Uint8Array(n);
    this.mask = new Uint8Array(n);
    // draw order: status groups from the bottom (closed) to the top (waiting), then family
    // a likely duplicate still waiting is its own group (疑似重复); once whistled, rejected or closed, its status's
    var groupOf = D.statuses.map(function (s) { return s.group; }), grp = new Uint8Array(n);
    var dupGroupOf = D.statuses.map(function (s) { return s.dupGroup; });
    this.groupOf = groupOf;
    var buckets = {};
    for (i = 0; i < n; i++) {
      var g = c.dup[i] ? dupGroupOf[c.st[i]] : groupOf[c.st[i]], f = D.cats[c.cat[i]].shape, b = g * 64 + f;
      grp[i] = g;
      (buckets[b] = buckets[b] || []).push(i);
    }
    this.grp = grp;
    this.buckets = Object.keys(buckets).map(Number).sort(function (a, b) {
      return D.groups[Math.floor(a / 64)].z - D.groups[Math.floor(b / 64)].z || a - b;
    }).map(function (b) { return {group: Math.floor(b / 64), shape: b % 64, rows: Int32Array.from(buckets[b])}; });
    this.filter = {groups: new Uint8Array(256).fill(1), cats: new Uint8Array(256).fill(1),
                   months: new Uint8Array(256).fill(1), days: null};
    this.sprites = {};
    this._recount();
  },

  onAdd: function (map) {
    this._map = map;
    this._canvas = L.DomUtil.create('canvas', 'leaflet-zoom-hide gise-cases');
    // its own pane above the township polygons (overlayPane, 400) and below labels and popups
    var pane = map.getPane('giseCases') || map.createPane('giseCases');
    pane.style.zIndex = 450;
    pane.style.pointerEvents = 'none';
    pane.appendChild(this._canvas);
    map.on('moveend zoomend resize viewreset', this._schedule, this);
    map.on('click', this._click, this);
    map.on('mousemove', this._hover, this);
    this._schedule();
  },

  onRemove: function (map) {
    L.DomUtil.remove(this._canvas);
    map.off('moveend zoomend resize viewreset', this._schedule, this);
    map.off('click', this._click, this);
    map.off('mousemove', this._hover, this);
  },

  visible: function (i) { return this.mask[i] === 1; },

  setFilter: function (kind, key, on) {
    if (kind === 'days') { this.filter.days = key; } else { this.filter[kind][key] = on ? 1 : 0; }
    this._recount();
    if (this._map) { this._schedule(); }
  },

  _recount: function () {
    // which cases pass the filters, and how many of each status group
    var f = this.filter, c = this.c, grp = this.grp, month = this.month, day = this.day, mask = this.mask;
    var d0 = f.days ? f.days[0] : -1, d1 = f.days ? f.days[1] : 1e9, groups = {}, total = 0, late = 0;
    for (var i = 0; i < this.n; i++) {
      var ok = f.groups[grp[i]] & f.cats[c.cat[i]] & f.months[month[i]] & (day[i] >= d0 && day[i] <= d1 ? 1 : 0);
      mask[i] = ok;
      if (ok) { total++; groups[grp[i]] = (groups[grp[i]] || 0) + 1; if (c.nl[i] > 0) { late++; } }
    }
    this.counts = {total: total, groups: groups, late: late};
    this.fire('counted', this.counts);
  },

  radius: function () {
    var z = this._map.getZoom();
    return z <= 9 ? 2 : z === 10 ? 2.6 : z === 11 ? 3.4 : z === 12 ? 4.4 : z === 13 ? 5.4 : 6.5;
  },

  _schedule: function () {
    if (this._frame) { return; }
    var self = this;
    this._frame = L.Util.requestAnimFrame(function () { self._frame = null; self.redraw(); });
  },

  _sprite: function (group, shape, r, dpr) {
    // one small picture per (status, shape, size), rasterised once and stamped pixel by pixel for every case:
    // far cheaper than a canvas path or drawImage per case when there are 10^5 of them
    var key = group + ':' + shape + ':' + r + ':' + dpr;
    if (this.sprites[key]) { return this.sprites[key]; }
    var size = Math.ceil(2 * (r * 1.5 + 2) * dpr) | 1, c = document.createElement('canvas');
    c.width = size; c.height = size;
    var ctx = c.getContext('2d', {willReadFrequently: true}), g = this.D.groups[group], mid = size / 2 / dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.beginPath();
    if (shape < 0) {
      ctx.arc(mid, mid, r + 1.6, 0, 2 * Math.PI);
      ctx.lineWidth = r >= 3 ? 1.4 : 1; ctx.strokeStyle = '#111'; ctx.stroke();
    } else {
      GISE_SHAPES[shape % GISE_SHAPES.length](ctx, mid, mid, r);
      if (g.hollow) {
        // an outline in the group's colour around a white face
        ctx.globalAlpha = 0.9; ctx.fillStyle = '#fff'; ctx.fill();
        ctx.globalAlpha = g.alpha; ctx.lineWidth = r >= 3 ? 1.6 : 1.1; ctx.strokeStyle = g.color; ctx.stroke();
      } else {
        ctx.globalAlpha = g.alpha; ctx.fillStyle = g.color; ctx.fill();
        if (r >= 3) { ctx.globalAlpha = 1; ctx.lineWidth = 0.8; ctx.strokeStyle = 'rgba(255,255,255,0.9)'; ctx.stroke(); }
      }
    }
    var px = ctx.getImageData(0, 0, size, size).data, off = [], rgba = [], half = (size - 1) / 2;
    for (var y = 0; y < size; y++) {
      for (var x = 0; x < size; x++) {
        var o = (y * size + x) * 4;
        if (px[o + 3]) { off.push(x - half, y - half); rgba.push(px[o], px[o + 1], px[o + 2], px[o + 3] / 255); }
      }
    }
    this.sprites[key] = {off: Int16Array.from(off), rgba: Float32Array.from(rgba)};
    return this.sprites[key];
  },

  _stamp: function (data, W, H, sprite, cx, cy) {
    var off = sprite.off, rgba = sprite.rgba, m = off.length / 2;
    for (var k = 0; k < m; k++) {
      var x = cx + off[2 * k], y = cy + off[2 * k + 1];
      if (x < 0 || y < 0 || x >= W || y >= H) { continue; }
      var o = (y * W + x) * 4, sa = rgba[4 * k + 3], da = data[o + 3] / 255;
      if (sa >= 1 || da === 0) {
        data[o] = rgba[4 * k]; data[o + 1] = rgba[4 * k + 1]; data[o + 2] = rgba[4 * k + 2]; data[o + 3] = sa * 255;
        continue;
      }
      var keep = da * (1 - sa), oa = sa + keep;  // "source over", straight alpha
      data[o] = (rgba[4 * k] * sa + data[o] * keep) / oa;
      data[o + 1] = (rgba[4 * k + 1] * sa + data[o + 1] * keep) / oa;
      data[o + 2] = (rgba[4 * k + 2] * sa + data[o + 2] * keep) / oa;
      data[o + 3] = oa * 255;
    }
  },

  redraw: function () {
    var map = this._map, c = this.c;
    if (!map) { return; }
    var size = map.getSize(), dpr = window.devicePixelRatio || 1, canvas = this._canvas;
    var topLeft = map.containerPointToLayerPoint([0, 0]);
    L.DomUtil.setPosition(canvas, topLeft);
    var W = Math.round(size.x * dpr), H = Math.round(size.y * dpr);
    canvas.width = W; canvas.height = H;
    canvas.style.width = size.x + 'px'; canvas.style.height = size.y + 'px';
    var ctx = canvas.getContext('2d'), image = ctx.createImageData(W, H), data = image.data;
    var scale = 256 * Math.pow(2, map.getZoom()), origin = map.getPixelOrigin();
    var ox = origin.x + topLeft.x, oy = origin.y + topLeft.y, r = this.radius(), pad = 12;
    var sx = this.sx, sy = this.sy, shown = this.shown, X = this.X, Y = this.Y, mask = this.mask, inView = 0;
    for (var q = 0; q < this.n; q++) {
      if (!mask[q]) { continue; }
      var qx = X[q] * scale - ox, qy = Y[q] * scale - oy;
      if (qx >= -pad && qy >= -pad && qx <= size.x + pad && qy <= size.y + pad) { inView++; }
    }
    // many cases on screen: smaller marks, so places stay apart and colours readable (½ size at 32 k)
    r = Math.max(1.3, Math.round(r * Math.min(1, Math.sqrt(8000 / Math.max(inView, 1))) * 10) / 10);
    this._r = r;
    shown.fill(0);
    for (var b = 0; b < this.buckets.length; b++) {
      var bucket = this.buckets[b], rows = bucket.rows, sprite = this._sprite(bucket.group, bucket.shape, r, dpr);
      for (var k = 0; k < rows.length; k++) {
        var i = rows[k];
        if (!mask[i]) { continue; }
        var px = X[i] * scale - ox, py = Y[i] * scale - oy;
        if (px < -pad || py < -pad || px > size.x + pad || py > size.y + pad) { continue; }
        sx[i] = px; sy[i] = py; shown[i] = 1;
        this._stamp(data, W, H, sprite, Math.round(px * dpr), Math.round(py * dpr));
      }
    }
    // late report-ins: a dark ring around the case, once marks are big enough for rings not to merge
    if (r >= 3) {
      var ring = this._sprite(0, -1, r, dpr);
      for (var j = 0; j < this.n; j++) {
        if (shown[j] && c.nl[j] > 0) { this._stamp(data, W, H, ring, Math.round(sx[j] * dpr), Math.round(sy[j] * dpr)); }
      }
    }
    ctx.putImageData(image, 0, 0);
    this.fire('drawn', this.counts);
  },

  nearest: function (point) {
    var best = -1, bestD = Infinity, r = (this._r || this.radius()) + 4, sx = this.sx, sy = this.sy, shown = this.shown;
    for (var i = 0; i < this.n; i++) {
      if (!shown[i]) { continue; }
      var dx = sx[i] - point.x, dy = sy[i] - point.y, d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = i; }
    }
    return bestD <= r * r ? best : -1;
  },

  _hover: function (e) {
    this._map.getContainer().style.cursor = this.nearest(e.containerPoint) >= 0 ? 'pointer' : '';
  },

  _click: function (e) {
    var i = this.nearest(e.containerPoint);
    if (i < 0) { return; }
    var D = this.D, lat = D.y0 + this.c.y[i] * D.step, lon = D.x0 + this.c.x[i] * D.step;
    L.popup({maxWidth: 380}).setLatLng([lat, lon]).setContent(giseCasePopup(this, i)).openOn(this._map);
  }
});

function giseColumn(text, type) {
  var bin = atob(text), n = bin.length, bytes = new Uint8Array(n);
  for (var i = 0; i < n; i++) { bytes[i] = bin.charCodeAt(i); }
  return new ({u8: Uint8Array, u16: Uint16Array, u32: Uint32Array}[type])(bytes.buffer);
}

var GISE_SHAPES = [
  function circle(ctx, x, y, r) { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI); },
  function triangle(ctx, x, y, r) {
    var s = r * 1.3; ctx.moveTo(x, y - s); ctx.lineTo(x + s * 0.9, y + s * 0.65); ctx.lineTo(x - s * 0.9, y + s * 0.65);
    ctx.closePath();
  },
  function square(ctx, x, y, r) { var s = r * 0.9; ctx.rect(x - s, y - s, 2 * s, 2 * s); },
  function diamond(ctx, x, y, r) {
    var s = r * 1.25; ctx.moveTo(x, y - s); ctx.lineTo(x + s, y); ctx.lineTo(x, y + s); ctx.lineTo(x - s, y); ctx.closePath();
  },
  function down(ctx, x, y, r) {
    var s = r * 1.3; ctx.moveTo(x, y + s); ctx.lineTo(x + s * 0.9, y - s * 0.65); ctx.lineTo(x - s * 0.9, y - s * 0.65);
    ctx.closePath();
  },
  function pentagon(ctx, x, y, r) { giseGon(ctx, x, y, r * 1.1, 5, -Math.PI / 2); },
  function hexagon(ctx, x, y, r) { giseGon(ctx, x, y, r * 1.05, 6, 0); },
  function star(ctx, x, y, r) {
    var s = r * 1.45;
    for (var k = 0; k < 10; k++) {
      var a = -Math.PI / 2 + k * Math.PI / 5, q = k % 2 ? s * 0.45 : s;
      if (k) { ctx.lineTo(x + q * Math.cos(a), y + q * Math.sin(a)); } else { ctx.moveTo(x + q * Math.cos(a), y + q * Math.sin(a)); }
    }
    ctx.closePath();
  },
  function cross(ctx, x, y, r) {
    var a = r * 1.15, b = r * 0.42;
    ctx.moveTo(x - b, y - a); ctx.lineTo(x + b, y - a); ctx.lineTo(x + b, y - b); ctx.lineTo(x + a, y - b);
    ctx.lineTo(x + a, y + b); ctx.lineTo(x + b, y + b); ctx.lineTo(x + b, y + a); ctx.lineTo(x - b, y + a);
    ctx.lineTo(x - b, y + b); ctx.lineTo(x - a, y + b); ctx.lineTo(x - a, y - b); ctx.lineTo(x - b, y - b); ctx.closePath();
  }
];

function giseGon(ctx, x, y, r, sides, start) {
  for (var k = 0; k < sides; k++) {
    var a = start + k * 2 * Math.PI / sides;
    if (k) { ctx.lineTo(x + r * Math.cos(a), y + r * Math.sin(a)); } else { ctx.moveTo(x + r * Math.cos(a), y + r * Math.sin(a)); }
  }
  ctx.closePath();
}

function giseShapeSvg(shape, color, size) {
  // the legend's picture of a shape, drawn by the same code on a small canvas
  var c = document.createElement('canvas'), dpr = window.devicePixelRatio || 1;
  c.width = size * dpr; c.height = size * dpr; c.style.width = size + 'px'; c.style.height = size + 'px';
  var ctx = c.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.beginPath();
  GISE_SHAPES[shape % GISE_SHAPES.length](ctx, size / 2, size / 2, size * 0.36);
  ctx.fillStyle = color; ctx.fill();
  return c;
}

function giseEsc(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
  });
}

/* a status group's dot in the popup and the layer control: filled, or an outline for a hollow group */
function giseDotStyle(g) {
  return g.hollow ? 'background:#fff;box-shadow:inset 0 0 0 2px ' + g.color : 'background:' + g.color;
}

function giseSpan(minutes, W) {
  if (minutes < 60) { return Math.round(minutes) + ' ' + W.min; }
  if (minutes < 48 * 60) { return (minutes / 60).toFixed(minutes < 600 ? 1 : 0) + ' ' + W.hours; }
  return (minutes / 1440).toFixed(minutes < 14400 ? 1 : 0) + ' ' + W.days;
}

function giseCasePopup(layer, i) {
  var D = layer.D, c = layer.c, W = D.words, cat = D.cats[c.cat[i]], st = D.statuses[c.st[i]];
  var group = D.groups[c.dup[i] ? st.dupGroup : st.group];
  var none16 = 65535, t = D.t0 + c.t[i];
  function when(m) { return new Date((m + giseOffset(D, m)) * 60000).toISOString().slice(0, 16).replace('T', ' '); }
  function pick(col) { return c[col] && c[col][i] !== D.none[col] ? D.dict[col][c[col][i]] : ''; }
  var rows = [];
  function row(k, v, cls) { if (v) { rows.push('<tr' + (cls ? ' class="' + cls + '"' : '') + '><th>' + k + '</th><td>' + v + '</td></tr>'); } }
  row(W.status, '<span class="st" style="' + giseDotStyle(group) + '"></span>' + giseEsc(st.name));
  // a village more than D.farVillage metres away is only the nearest one: named as such, with its distance
  var village = pick('v'), far = c.vd && c.vd[i] !== D.none.vd ? c.vd[i] : null;
  if (village && far !== null && far > D.farVillage) {
    village = W.nearVillage.replace('{v}', village).replace('{km}', (far / 1000).toFixed(1));
  }
  row(W.place, giseEsc([pick('tw'), village].filter(Boolean).join(' · ')));
  row(W.lead, giseEsc(pick('d')));
  var flags = pick('f');
  if (flags) { row(W.flags, flags.split(';').map(function (x) { return '<span class="flag">' + giseEsc(D.flagNames[x] || x) + '</span>'; }).join('')); }
  if (c.dup[i]) { row(W.dup, '<span class="flag">' + giseEsc(W.dupText) + '</span>'); }
  if (c.acc[i] !== D.none.acc) { row(W.acc, '±' + c.acc[i] + ' ' + W.m); }
  // the chain, step by step
  var steps = [[W.observed, when(t), '']];
  if (c.wd[i] !== none16) { steps.push([W.whistled, when(t + c.wd[i]), '+' + giseSpan(c.wd[i], W)]); }
  if (c.ns[i]) {
    var ok = c.nr[i] + '/' + c.ns[i] + ' ' + W.depts + (c.nl[i] ? ' · <b class="late">' + c.nl[i] + ' ' + W.late + '</b>' : '');
    if (c.rd[i] !== none16) { steps.push([W.firstIn, when(t + c.wd[i] + c.rd[i]), '+' + giseSpan(c.rd[i], W) + ' · ' + ok]); }
    else { steps.push([W.reportIn, '—', ok]); }
  }
  if (c.dd[i] !== none16) { steps.push([W.done, when(t + c.dd[i] * 60), '+' + giseSpan(c.dd[i] * 60, W)]); }
  if (c.cd[i] !== none16) { steps.push([W.closed, when(t + c.cd[i] * 60), '+' + giseSpan(c.cd[i] * 60, W)]); }
  var line = '<ol class="tl">' + steps.map(function (s) {
    return '<li><span class="k">' + s[0] + '</span><span class="t">' + s[1] + '</span><span class="d">' + s[2] + '</span></li>';
  }).join('') + '</ol>';
  var id = D.ids ? D.ids[i] : ('00000000' + c.id[i].toString(16)).slice(-8) + '…';
  var desc = D.desc && D.desc[i] ? '<div class="desc">' + giseEsc(D.desc[i]) + '</div>' : '';
  return '<div class="gise-popup"><div class="hd" style="border-left-color:' + group.color + '">' +
    giseEsc(cat.name) + (cat.sev ? '<span class="sev ' + giseEsc(cat.sevCode) + '">' + giseEsc(cat.sev) + '</span>' : '') +
    '</div><table>' + rows.join('') + '</table>' + line + desc +
    '<div class="id">' + giseEsc(W.id) + ' ' + giseEsc(id) + '</div></div>';
}

/* The layer control with section headings (状态 / 类别 / 月份), each with "all" and "none". */
var GiseFilterControl = L.Control.Layers.extend({
  _update: function () {
    L.Control.Layers.prototype._update.call(this);
    var list = this._overlaysList, labels = list.children, overlays = this._layers.filter(function (o) { return o.overlay; });
    var self = this, last = null, heads = [];
    overlays.forEach(function (o, k) {
      if (o.layer.giseSection !== last) { last = o.layer.giseSection; heads.push([labels[k], last]); }
    });
    heads.forEach(function (h) {
      var div = L.DomUtil.create('div', 'gise-sec');
      div.innerHTML = '<span>' + giseEsc(h[1]) + '</span>';
      [['all', GISE_CASES.words.all], ['none', GISE_CASES.words.none]].forEach(function (a) {
        var btn = L.DomUtil.create('button', 'gise-sec-btn', div);
        btn.type = 'button'; btn.textContent = a[1];
        L.DomEvent.on(btn, 'click', function (e) {
          L.DomEvent.stop(e);
          self._layers.forEach(function (o) {
            if (o.overlay && o.layer.giseSection === h[1]) {
              if (a[0] === 'all') { self._map.addLayer(o.layer); } else { self._map.removeLayer(o.layer); }
            }
          });
        });
      });
      list.insertBefore(div, h[0]);
    });
    return this;
  }
});

/* Wire the page: layer control filters, the legend, the time slider, the counts in the title box. */
function giseStatusPage(map, D) {
  var layer = new GiseCases(D).addTo(map);
  var W = D.words, overlays = {}, toggles = {groups: {}, cats: {}, months: {}};
  function filterLayer(kind, key, section) {
    var g = L.layerGroup();
    g.giseKind = kind; g.giseKey = key; g.giseSection = section;
    toggles[kind][key] = g;
    g.addTo(map);
    return g;
  }
  D.groupOrder.forEach(function (k) {
    var g = D.groups[k];
    overlays['<span class="gise-ctl-dot" style="' + giseDotStyle(g) + '"></span>' + giseEsc(g.name)] = filterLayer('groups', k, W.statusSection);
  });
  D.catOrder.forEach(function (k) {
    overlays['<span class="gise-ctl-shape" data-shape="' + D.cats[k].shape + '"></span>' + giseEsc(D.cats[k].short)] = filterLayer('cats', k, W.categorySection);
  });
  D.months.forEach(function (m, k) { overlays[giseEsc(m)] = filterLayer('months', k, W.monthSection); });
  var control = new GiseFilterControl(null, overlays, {collapsed: true, position: 'topright'}).addTo(map);
  map.on('overlayadd overlayremove', function (e) {
    if (e.layer.giseKind) { layer.setFilter(e.layer.giseKind, e.layer.giseKey, e.type === 'overlayadd'); }
  });
  function drawShapes(root) {
    root.querySelectorAll('.gise-ctl-shape[data-shape]').forEach(function (el) {
      if (!el.firstChild) { el.appendChild(giseShapeSvg(Number(el.getAttribute('data-shape')), '#555', 12)); }
    });
  }
  control.getContainer().addEventListener('mouseenter', function () { drawShapes(control.getContainer()); });
  drawShapes(document);

  // legend rows toggle the same filters as the control
  document.querySelectorAll('.gise-legend .row[data-group]').forEach(function (row) {
    var key = Number(row.getAttribute('data-group')), g = toggles.groups[key];
    function sync() { row.classList.toggle('off', !map.hasLayer(g)); }
    row.addEventListener('click', function () { if (map.hasLayer(g)) { map.removeLayer(g); } else { map.addLayer(g); } });
    row.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); row.click(); } });
    g.on('add remove', sync);
  });
  layer.on('counted', showCounts);
  function showCounts(counts) {
    document.querySelectorAll('.gise-legend .row[data-group]').forEach(function (row) {
      var key = Number(row.getAttribute('data-group'));
      row.querySelector('.n').textContent = (counts.groups[key] || 0).toLocaleString('en-US');
    });
    var shown = document.getElementById('gise-shown');
    if (shown) { shown.textContent = counts.total.toLocaleString('en-US'); }
    var late = document.getElementById('gise-late');
    if (late) { late.textContent = counts.late.toLocaleString('en-US'); }
  }
  showCounts(layer.counts);

  // the time slider: all days, or a window of days ending on the chosen day
  var slider = document.getElementById('gise-day'), mode = document.getElementById('gise-window');
  var label = document.getElementById('gise-days'), play = document.getElementById('gise-play'), timer = null;
  var day0 = Math.floor((D.t0 + giseOffset(D, D.t0)) / 1440);
  function dayText(d) { return new Date((day0 + d) * 86400000).toISOString().slice(0, 10); }
  function apply() {
    var w = Number(mode.value), d = Number(slider.value);
    if (!w) { layer.setFilter('days', null); label.textContent = W.allDays; slider.setAttribute('aria-valuetext', W.allDays); return; }
    var from = Math.max(0, d - w + 1);
    layer.setFilter('days', [from, d]);
    label.textContent = dayText(from) + ' — ' + dayText(d);
    slider.setAttribute('aria-valuetext', label.textContent);
  }
  slider.addEventListener('input', function () { if (!Number(mode.value)) { mode.value = '30'; } apply(); });
  mode.addEventListener('change', apply);
  play.addEventListener('click', function () {
    if (timer) { clearInterval(timer); timer = null; play.textContent = '▶'; play.setAttribute('aria-label', W.play); return; }
    if (!Number(mode.value)) { mode.value = '30'; }
    if (Number(slider.value) >= Number(slider.max)) { slider.value = 0; }
    play.textContent = '❚❚'; play.setAttribute('aria-label', W.pause);
    timer = setInterval(function () {
      if (Number(slider.value) >= Number(slider.max)) { play.click(); return; }
      slider.value = Number(slider.value) + Math.max(1, Math.round(Number(mode.value) / 7)); apply();
    }, 350);
  });
  apply();

  // the time bar (centred) and the legend (left) share the bottom of the map: where the window is too narrow for
  // them side by side (800 px: the bar would cover the legend), the legend moves up above the bar, its height
  // kept to what is left under the title box (it scrolls beyond)
  function clearTheLegend() {
    var bar = document.querySelector('.gise-time'), legend = document.querySelector('.gise-legend');
    var title = document.querySelector('.gise-title');
    if (!bar || !legend || !legend.offsetParent) { return; }
    legend.style.bottom = ''; legend.style.maxHeight = '';
    var b = bar.getBoundingClientRect(), l = legend.getBoundingClientRect();
    if (b.left >= l.right + 8 || b.right <= l.left - 8) { return; }
    var floor = legend.offsetParent.getBoundingClientRect().bottom, gap = 10;
    legend.style.bottom = (floor - b.top + gap) + 'px';
    var top = title ? title.getBoundingClientRect().bottom + gap : gap;
    legend.style.maxHeight = Math.max(80, b.top - gap - top) + 'px';
  }
  clearTheLegend();
  window.addEventListener('resize', clearTheLegend);
  window.giseCases = layer;
  window.giseFilters = toggles;
  return layer;
}
