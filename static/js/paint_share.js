/* LSC map runtime: the share pseudo-layer's script (after lsc_core.js in the bundle):
 * keeps the map's centre/zoom in the page URL on every move, and applies the presentation
 * styles inside the map frame (layers/share.py sends `cfg` each round). */
(function () {
  "use strict";

  window.LSC.paint.share = function (cfg) {
    var LSC = window.LSC; if (!LSC || !LSC.map) return;
    var map = LSC.map, P = null;
    try { P = window.parent; void P.location.href; } catch (e) { P = null; }
    function syncUrl() {
      var c = map.getCenter(), z = map.getZoom();
      var v = c.lat.toFixed(5) + "," + c.lng.toFixed(5) + "," + z;
      document.body.setAttribute("data-lsc-view", v);
      if (!P) return;
      try {
        var u = new URL(P.location.href);
        u.searchParams.set("lat", c.lat.toFixed(5));
        u.searchParams.set("lon", c.lng.toFixed(5));
        u.searchParams.set("z", String(Math.round(z * 4) / 4));
        P.history.replaceState(P.history.state, "", u.pathname + "?" + u.searchParams.toString() + u.hash);
      } catch (e) {}
    }
    if (LSC._shareMove) map.off("moveend", LSC._shareMove);
    LSC._shareMove = syncUrl;
    map.on("moveend", syncUrl);
    // presentation styles inside this iframe
    var css = document.getElementById("lsc-present-css");
    if (cfg.present && !css) {
      css = document.createElement("style"); css.id = "lsc-present-css"; css.textContent = cfg.css;
      document.head.appendChild(css);
    } else if (!cfg.present && css) { css.parentNode.removeChild(css); }
    LSC._shareCfg = cfg;
    function outlines() {
      var Ls = LSC.layers || {}, o = LSC._shareCfg.outlines;
      if (Ls.wards) Ls.wards.setStyle(o.wards);
      if (Ls.districts) Ls.districts.setStyle(o.districts);
      if (Ls.core20 && Ls.core20.setWeight) Ls.core20.setWeight(o.core20_weight);
      document.body.setAttribute("data-lsc-present", LSC._shareCfg.present ? "1" : "0");
    }
    LSC._shareOutlines = outlines;
    if (!LSC._shareObs) {
      LSC._shareObs = new MutationObserver(function () { LSC._shareOutlines(); if (LSC._shareMove) LSC._shareMove(); });
      LSC._shareObs.observe(document.body, { attributes: true, attributeFilter: ["data-lsc-applied"] });
    }
    outlines();
    setTimeout(function () { map.invalidateSize({ animate: false }); }, 50);
  };
})();
