/* Labels that stay readable on every map page.
 *
 * A label whose place is taken (a township too small on screen for its name, a department checked in beside
 * another one) is drawn as a callout: a marker at its point whose text sits some pixels away, joined to the point
 * by a thin leader line. GiseLabels.place puts each callout at the first candidate position (pixel offsets from its
 * point, best first) where its box overlaps neither the labels already drawn nor the page's boxes (title, legend),
 * and stays inside the map. Offsets are in pixels, so a callout keeps its place while the map pans; the pages
 * place them again after a zoom.
 */
var GiseLabels = (function () {
  function rect(el, origin) {
    var r = el.getBoundingClientRect();
    return {x0: r.left - origin.left, y0: r.top - origin.top, x1: r.right - origin.left, y1: r.bottom - origin.top};
  }
  function overlaps(a, b, pad) {
    return a.x0 < b.x1 + pad && b.x0 < a.x1 + pad && a.y0 < b.y1 + pad && b.y0 < a.y1 + pad;
  }
  function free(box, taken, pad) {
    for (var i = 0; i < taken.length; i++) { if (overlaps(box, taken[i], pad)) { return false; } }
    return true;
  }
  // the boxes a callout must keep clear of: the page's own boxes, and the labels given (DOM elements)
  function obstacles(map, elements) {
    var origin = map.getContainer().getBoundingClientRect(), out = [];
    document.querySelectorAll('.gise-box').forEach(function (el) {
      if (el.offsetParent !== null) { out.push(rect(el, origin)); }
    });
    elements.forEach(function (el) { if (el && el.offsetParent !== null) { out.push(rect(el, origin)); } });
    return out;
  }
  function html(text, cls) {
    return '<svg class="gise-leader" width="1" height="1"><line x1="0" y1="0" x2="0" y2="0"/>' +
      '<circle cx="0" cy="0" r="2"/></svg><div class="gise-callout-text ' + (cls || '') + '">' + text + '</div>';
  }
  /* A callout marker at ``latlng`` in ``pane``: its text ``text`` (HTML) with the class ``cls``. */
  function callout(latlng, text, cls, pane) {
    return L.marker(latlng, {pane: pane, interactive: false, keyboard: false,
      icon: L.divIcon({className: 'gise-callout', iconSize: [0, 0], iconAnchor: [0, 0], html: html(text, cls)})});
  }
  /* Put each item's callout (``item.marker``, on the map) at the first of ``item.candidates(w, h)`` — centre
     offsets [dx, dy] in pixels — whose box is free of ``taken`` (boxes, added to as callouts are placed) and
     inside the map; the first candidate when none is. Returns the boxes placed. */
  function place(map, items, taken) {
    var size = map.getSize(), placed = [];
    items.forEach(function (item) {
      var el = item.marker.getElement();
      if (!el) { return; }
      var text = el.querySelector('.gise-callout-text'), line = el.querySelector('line');
      var w = text.offsetWidth, h = text.offsetHeight;
      var at = map.latLngToContainerPoint(item.marker.getLatLng());
      var options = item.candidates(w, h), best = null;
      for (var i = 0; i < options.length && best === null; i++) {
        var cx = at.x + options[i][0], cy = at.y + options[i][1];
        var box = {x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2};
        var inside = box.x0 >= 2 && box.y0 >= 2 && box.x1 <= size.x - 2 && box.y1 <= size.y - 2;
        if (inside && free(box, taken, 2)) { best = options[i]; }
      }
      best = best || options[0];
      var dx = best[0], dy = best[1];
      text.style.left = (dx - w / 2) + 'px';
      text.style.top = (dy - h / 2) + 'px';
      // the leader runs from the point to the nearest edge of the text
      line.setAttribute('x2', Math.max(dx - w / 2, Math.min(0, dx + w / 2)));
      line.setAttribute('y2', Math.max(dy - h / 2, Math.min(0, dy + h / 2)));
      var done = {x0: at.x + dx - w / 2, y0: at.y + dy - h / 2, x1: at.x + dx + w / 2, y1: at.y + dy + h / 2};
      taken.push(done);
      placed.push(done);
    });
    return placed;
  }
  /* Offsets around a point, rings of growing radius from ``r0`` (pixels), north-east first: for a label
     outside a small area whose extent from the point is ``r0``. */
  function around(r0) {
    return function (w, h) {
      var out = [], angles = [-45, 0, -90, 45, -135, 180, 90, 135];
      [0, 18, 40, 70, 110].forEach(function (extra) {
        angles.forEach(function (deg) {
          var a = deg * Math.PI / 180, c = Math.cos(a), s = Math.sin(a);
          // from the point's edge out, then by the half box in that direction
          out.push([c * (r0 + extra + w / 2 * Math.abs(c)) , s * (r0 + extra + h / 2 * Math.abs(s))]);
        });
      });
      return out;
    };
  }
  /* Offsets beside a point on one side (``side`` -1 left, 1 right), stacked up and down in steps of the box's
     height, then the same on the other side: for labels of points close together. */
  function beside(side, gap) {
    return function (w, h) {
      var out = [];
      [side, -side].forEach(function (s) {
        for (var k = 0; k <= 8; k++) {
          [k, -k].forEach(function (j, n) {
            if (k === 0 && n === 1) { return; }
            out.push([s * (gap + w / 2), j * (h + 3)]);
          });
        }
      });
      return out;
    };
  }
  return {callout: callout, place: place, around: around, beside: beside, obstacles: obstacles, rect: rect};
})();
