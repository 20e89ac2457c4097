/* Reads a JPEG's capture time and GPS position from its EXIF block, so that the officer sees them before the
   photo is sent (the server reads and keeps them again on upload). Only what is needed: IFD0 → Exif IFD
   (DateTimeOriginal, else IFD0 DateTime) and the GPS IFD (latitude, longitude and their N/S/E/W). */
"use strict";

const Exif = (() => {
  function read(buffer) {
    const v = new DataView(buffer);
    if (v.byteLength < 4 || v.getUint16(0) !== 0xffd8) return null; // not a JPEG
    let off = 2;
    while (off + 4 <= v.byteLength) {
      const marker = v.getUint16(off);
      if ((marker & 0xff00) !== 0xff00) return null;
      const size = v.getUint16(off + 2);
      if (marker === 0xffe1 && off + 10 <= v.byteLength && v.getUint32(off + 4) === 0x45786966) { // "Exif"
        return tiff(v, off + 10, Math.min(v.byteLength, off + 2 + size));
      }
      if (marker === 0xffda) return null; // image data: no EXIF before it
      off += 2 + size;
    }
    return null;
  }

  function tiff(v, start, end) {
    const little = v.getUint16(start) === 0x4949;
    const u16 = (o) => v.getUint16(o, little);
    const u32 = (o) => v.getUint32(o, little);
    const inside = (o, n) => o >= start && o + n <= end;
    function entries(ifd) {
      const out = new Map();
      const at = start + ifd;
      if (!inside(at, 2)) return out;
      const n = u16(at);
      for (let i = 0; i < n; i++) {
        const e = at + 2 + i * 12;
        if (!inside(e, 12)) break;
        out.set(u16(e), { type: u16(e + 2), count: u32(e + 4), at: e + 8 });
      }
      return out;
    }
    function ascii(e) {
      if (!e || e.type !== 2) return null;
      const o = e.count > 4 ? start + u32(e.at) : e.at;
      if (!inside(o, e.count)) return null;
      let s = "";
      for (let i = 0; i < e.count; i++) { const c = v.getUint8(o + i); if (!c) break; s += String.fromCharCode(c); }
      return s;
    }
    function rationals(e) {
      if (!e || e.type !== 5) return null;
      const o = start + u32(e.at);
      if (!inside(o, e.count * 8)) return null;
      const out = [];
      for (let i = 0; i < e.count; i++) {
        const den = u32(o + i * 8 + 4);
        out.push(den ? u32(o + i * 8) / den : 0);
      }
      return out;
    }
    const ifd0 = entries(u32(start + 4));
    let taken = ascii(ifd0.get(0x0132));
    const exifPtr = ifd0.get(0x8769);
    if (exifPtr) taken = ascii(entries(u32(exifPtr.at)).get(0x9003)) || taken;
    let lat = null; let lon = null;
    const gpsPtr = ifd0.get(0x8825);
    if (gpsPtr) {
      const g = entries(u32(gpsPtr.at));
      const dms = (r) => (r && r.length === 3 ? r[0] + r[1] / 60 + r[2] / 3600 : null);
      lat = dms(rationals(g.get(2))); lon = dms(rationals(g.get(4)));
      if (lat !== null && ascii(g.get(1)) === "S") lat = -lat;
      if (lon !== null && ascii(g.get(3)) === "W") lon = -lon;
    }
    // "2026:05:12 23:40:00" → "2026-05-12 23:40:00"
    if (taken) taken = taken.replace(/^(\d{4}):(\d{2}):(\d{2})/, "$1-$2-$3");
    return { taken: taken || null, lat, lon };
  }

  async function fromFile(file) {
    try { return read(await file.slice(0, 256 * 1024).arrayBuffer()); } catch { return null; }
  }
  return { read, fromFile };
})();
