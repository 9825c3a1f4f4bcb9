/* The standalone page's helpers (render/export_html.py inlines this file):
 * - the footer's height (the attribution is never cut: map and legend end above it);
 * - LSC_ready(): true once the map runtime applied its round and every layer that paints
 *   asynchronously marked its body attribute (window.LSC_WAIT: [attribute, value prefix]
 *   pairs); the PNG snapshot waits for it (render/png.py);
 * - LSC_fitLegend() (called by the snapshot), which shrinks the legend's type until all
 *   of it fits the panel, then flows it into two columns if it must. */
(function () {
  function layout() {
    var f = document.getElementById("lsc-foot");
    if (!f) return;
    document.documentElement.style.setProperty("--foot", f.offsetHeight + "px");
    if (window.LSC && LSC.map) LSC.map.invalidateSize({ animate: false });
  }
  window.LSC_ready = function () {
    var b = document.body;
    if (!document.querySelector(".folium-map") || b.hasAttribute("data-lsc-error")) return true;
    return b.hasAttribute("data-lsc-applied") && (window.LSC_WAIT || []).every(function (w) {
      var v = b.getAttribute(w[0]); return v !== null && v.indexOf(w[1]) === 0;
    });
  };
  window.LSC_fitLegend = function () {
    layout();
    var p = document.getElementById("lsc-legend-panel");
    if (!p) return true;
    var fs = parseFloat(getComputedStyle(p).fontSize), min = Math.max(9, fs * 0.62);
    while (p.scrollHeight > p.clientHeight + 1 && fs > min) { fs -= 0.5; p.style.fontSize = fs + "px"; }
    if (p.scrollHeight > p.clientHeight + 1) {
      document.documentElement.style.setProperty("--lw", "min(46vw, 900px)");
      p.style.columnCount = 2; p.style.columnGap = "1.2em";
      layout();
    }
    return p.scrollHeight <= p.clientHeight + 1;
  };
  window.addEventListener("load", layout);
  window.addEventListener("resize", layout);
})();
