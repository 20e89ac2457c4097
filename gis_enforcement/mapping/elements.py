"""The raw HTML/JavaScript elements of the incidents map, and the browser code their popups call.

Nothing here goes through Jinja: branca's ``Element(text)`` compiles its text as a template, so data containing
``{{ ... }}`` (a patrol's description, say) would be evaluated, and big data is slow to lex. Every element's
JavaScript is built in Python, with data embedded by :func:`script_json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from importlib import resources
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement

__all__ = [
    "POPUP_JS",
    "JsElement",
    "LegendToggle",
    "PointLayer",
    "Raw",
    "Script",
    "TownshipLayer",
    "figure_of",
    "labels_js",
    "script_json",
]

#: Browser helpers: HTML escaping, a popup built from a feature's short properties, legend toggling.
POPUP_JS = """
function giseEsc(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
  });
}
function gisePopup(p, code) {
  var G = GISE, T = G.ui, c = G.cats[code] || {name: code, color: '#777'};
  var rows = [];
  function row(k, v) {
    if (v !== undefined && v !== null && v !== '') {
      rows.push('<tr><th>' + k + '</th><td>' + v + '</td></tr>');
    }
  }
  if (c.familyName && T.family) { row(T.family, giseEsc(c.familyName)); }
  if (p.t) { row(T.time, giseEsc(p.t)); }
  if (p.s) { row(T.status, giseEsc(G.status[p.s] || p.s)); }
  var place = [p.tw, p.v].filter(function (x) { return !!x; }).join(' · ');
  if (place) { row(T.place, giseEsc(place)); }
  if (p.g) { row(T.grid, giseEsc(p.g)); }
  if (p.d) { row(T.lead, giseEsc(G.depts[p.d] || p.d)); }
  if (p.f) {
    row(T.flags, p.f.split(';').filter(function (x) { return !!x; }).map(function (x) {
      return '<span class="flag">' + giseEsc(G.flags[x] || x) + '</span>'; }).join(''));
  }
  if (p.dup) {
    row(T.dup, '<span class="flag">' + giseEsc(T.dup_text + ' ' + String(p.dup).slice(0, 8)) + '</span>');
  }
  if (p.acc !== undefined && p.acc !== null) { row(T.acc, giseEsc('±' + p.acc + ' ' + T.metres)); }
  var sev = c.sev ? '<span class="sev ' + giseEsc(c.sevCode) + '">' + giseEsc(c.sev) + '</span>' : '';
  return '<div class="gise-popup"><div class="hd" style="border-left-color:' + c.color + '">' +
    giseEsc(c.name) + sev + '</div><table>' + rows.join('') + '</table>' +
    (p.desc ? '<div class="desc">' + giseEsc(p.desc) + '</div>' : '') +
    (p.id ? '<div class="id">' + giseEsc(T.id) + ' ' + giseEsc(p.id) + '</div>' : '') + '</div>';
}
function giseDecode(c) {
  // the columns of compact_collections back into GeoJSON features (same properties as point_collections)
  var D = GISE.compact, d = D.dict, n = c.x.length, out = new Array(n), keys = ['s', 'tw', 'v', 'g', 'd', 'f', 'dup'];
  // minutes of the district's wall clock (compact_collections): printed as they are
  function time(m) { return new Date((D.t0 + m) * 60000).toISOString().slice(0, 16).replace('T', ' '); }
  for (var i = 0; i < n; i++) {
    var p = {};
    if (c.t && c.t[i] >= 0) { p.t = time(c.t[i]); }
    for (var k = 0; k < keys.length; k++) {
      var key = keys[k];
      if (c[key] && c[key][i] >= 0) { p[key] = d[key][c[key][i]]; }
    }
    if (c.acc && c.acc[i] >= 0) { p.acc = c.acc[i]; }
    out[i] = {type: 'Feature', properties: p,
              geometry: {type: 'Point', coordinates: [D.x0 + c.x[i] / 1e5, D.y0 + c.y[i] / 1e5]}};
  }
  return {type: 'FeatureCollection', features: out};
}
function giseToggle(row, map, layer) {
  if (map.hasLayer(layer)) { map.removeLayer(layer); row.className = 'row off'; }
  else { map.addLayer(layer); row.className = 'row'; }
}
"""


_TEMPLATE_OPEN = re.compile(r"\{(?=[{%#])")


def script_json(obj: Any) -> str:
    """JSON safe to embed inside a <script> element (compact, UTF-8 kept)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    # JSON structure never has "{{", "{%" or "{#": such text is inside strings; keep it template-inert too
    return _TEMPLATE_OPEN.sub(r"\\u007b", text)


def figure_of(element: Element) -> Figure:
    """The page (branca ``Figure``) ``element`` belongs to: its header, body and script sections."""
    root = element.get_root()
    assert isinstance(root, Figure), f"{element.get_name()} is not part of a page"
    return root


def _parent_of(element: Element) -> Element:
    """The element ``element`` was added to (set by ``add_child``, always before rendering)."""
    assert element._parent is not None, f"{element.get_name()} was never added to a map"
    return element._parent


class Raw(Element):
    """Text put into the page exactly as given.

    branca's ``Element(text)`` compiles its text as a Jinja template, so data containing ``{{ ... }}`` (a
    patrol's description, say) would be evaluated, and big data is slow to lex; nothing here goes through
    Jinja.
    """

    def __init__(self, text: str):
        super().__init__()
        self._name = "GiseRaw"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class JsElement(MacroElement):
    """A map element whose JavaScript is built in Python (no Jinja), see :class:`Raw`."""

    def js(self) -> str:
        raise NotImplementedError

    # branca's own MacroElement.render returns None as well; only Element.render is annotated ``-> str``
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        figure_of(self).script.add_child(Raw(self.js()), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class Script(JsElement):
    """A piece of JavaScript, rendered once."""

    def __init__(self, code: str):
        super().__init__()
        self._name = "GiseScript"
        self.code = code

    def js(self) -> str:
        return self.code


class PointLayer(JsElement):
    """One category's incidents: a FeatureCollection drawn as circle markers, popups built on click."""

    def __init__(self, collection: dict[str, Any], code: str, style: dict[str, Any]):
        super().__init__()
        self._name = "GisePoints"
        self.data = script_json(collection)
        self.code = script_json(code)
        self.style = script_json(style)

    def js(self) -> str:
        return f"""
var {self.get_name()} = L.geoJSON({self.data}, {{
  pointToLayer: function (f, latlng) {{ return L.circleMarker(latlng, {self.style}); }},
  onEachFeature: function (f, layer) {{
    layer.bindPopup(function () {{ return gisePopup(f.properties, {self.code}); }}, {{maxWidth: 360}});
  }}
}}).addTo({_parent_of(self).get_name()});
"""


class CompactPointLayer(PointLayer):
    """A category's incidents carried as columns (:func:`~.features.compact_collections`), rebuilt into the same
    GeoJSON layer in the page."""

    def __init__(self, columns: dict[str, Any], code: str, style: dict[str, Any]):
        super().__init__({}, code, style)
        self.data = f"giseDecode({script_json(columns)})"


def labels_js() -> str:
    """The browser code of callout labels (``js/labels.js``: ``GiseLabels``), for the pages that place labels."""
    return resources.files("gis_enforcement.mapping").joinpath("js/labels.js").read_text(encoding="utf-8")


#: the pane of the township labels: above the markers (600) and the hot-spot sites (640), below the dispatch and
#: plan maps' own labels and markers (650, 660) and the popups (700)
TOWN_LABEL_PANE = "giseTownLabels"
TOWN_LABEL_Z = 645


class TownshipLayer(JsElement):
    """Township polygons (non-interactive, so clicks reach the points) and their permanent name labels.

    The labels sit in their own pane above every marker. A township too small on screen for its name (``min
    zoom`` of :func:`~.features.township_collection` not reached) is labelled outside, with a leader line, where
    the label overlaps no other (``js/labels.js``)."""

    def __init__(self, collection: dict[str, Any], labels: list[list[Any]], style: dict[str, Any],
                 outline: dict[str, Any]):
        super().__init__()
        self._name = "GiseTownships"
        self.data = script_json(collection)
        self.labels = script_json(labels)
        self.style = script_json(style)
        self.outline = script_json(outline)

    def js(self) -> str:
        parent = _parent_of(self)
        group, the_map = parent.get_name(), _parent_of(parent).get_name()
        return f"""{labels_js()}
var {self.get_name()} = L.geoJSON({self.data}, {{
  interactive: false,
  style: function (f) {{ return f.properties.outline ? {self.outline} : {self.style}; }}
}}).addTo({group});
(function () {{
  var group = {group}, map = {the_map}, polygons = {self.get_name()}.getLayers();
  var pane = map.getPane('{TOWN_LABEL_PANE}') || map.createPane('{TOWN_LABEL_PANE}');
  pane.style.zIndex = {TOWN_LABEL_Z}; pane.style.pointerEvents = 'none';
  // labels and polygons come in the same order (the district outline last)
  var labels = {self.labels}.map(function (l, i) {{
    var t = L.tooltip([l[0], l[1]], {{permanent: true, direction: 'center', interactive: false,
                                     className: 'gise-town-label', pane: '{TOWN_LABEL_PANE}'}}).setContent(l[2]);
    t.giseMinZoom = l[3];
    t.giseCallout = GiseLabels.callout([l[0], l[1]], l[2], 'gise-town-label', '{TOWN_LABEL_PANE}');
    t.gisePolygon = polygons[i];
    return t;
  }});
  function update() {{
    var small = [];
    labels.forEach(function (t) {{
      var inside = map.getZoom() >= t.giseMinZoom;
      if (inside) {{ group.addLayer(t); group.removeLayer(t.giseCallout); }}
      else {{ group.removeLayer(t); group.addLayer(t.giseCallout); small.push(t); }}
    }});
    if (!map.hasLayer(group) || !small.length) {{ return; }}
    var taken = GiseLabels.obstacles(map, labels.filter(function (t) {{ return group.hasLayer(t); }})
      .map(function (t) {{ return t.getElement(); }}));
    small.forEach(function (t) {{  // and off the small townships themselves
      var b = t.gisePolygon.getBounds(), p = map.latLngToContainerPoint(b.getNorthWest()),
          q = map.latLngToContainerPoint(b.getSouthEast());
      taken.push({{x0: p.x, y0: p.y, x1: q.x, y1: q.y}});
    }});
    GiseLabels.place(map, small.map(function (t) {{
      // clear of the township itself: from its point to the farthest corner of its box on screen
      var at = map.latLngToContainerPoint(t.getLatLng()), b = t.gisePolygon.getBounds();
      var p = map.latLngToContainerPoint(b.getNorthWest()), q = map.latLngToContainerPoint(b.getSouthEast());
      var reach = Math.min(Math.max(Math.abs(p.x - at.x), Math.abs(q.x - at.x), Math.abs(p.y - at.y),
                                    Math.abs(q.y - at.y)), 60);
      return {{marker: t.giseCallout, candidates: GiseLabels.around(reach + 6)}};
    }}), taken);
  }}
  map.on('zoomend moveend', update);
  group.on('add', update);
  map.whenReady(update);
}})();
"""


class LegendToggle(JsElement):
    """Clicking a legend row shows/hides its layer, or all of its layers (a family's categories): a row is dimmed
    while none of them is on the map."""

    def __init__(self, groups: Sequence[tuple[str, folium.FeatureGroup | list[folium.FeatureGroup]]]):
        super().__init__()
        self._name = "GiseLegendToggle"
        self.groups = [(key, fg if isinstance(fg, list) else [fg]) for key, fg in groups]

    def js(self) -> str:
        layers = ", ".join(f"{script_json(key)}: [{', '.join(fg.get_name() for fg in fgs)}]"
                           for key, fgs in self.groups)
        return f"""
(function () {{
  var map = {_parent_of(self).get_name()};
  var layers = {{{layers}}};
  document.querySelectorAll('.gise-legend .row[data-key]').forEach(function (row) {{
    var mine = layers[row.getAttribute('data-key')];
    if (!mine) {{ return; }}
    function shown() {{ return mine.some(function (l) {{ return map.hasLayer(l); }}); }}
    function mark() {{ row.className = shown() ? 'row' : 'row off'; }}
    row.addEventListener('click', function () {{
      var on = shown();
      mine.forEach(function (l) {{ if (on) {{ map.removeLayer(l); }} else {{ map.addLayer(l); }} }});
    }});
    mine.forEach(function (l) {{ l.on('add remove', mark); }});
  }});
}})();
"""
