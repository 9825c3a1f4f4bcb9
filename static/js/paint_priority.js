/* LSC map runtime: the priority wards' painter (and the selected ward) (after lsc_core.js in the bundle). */
(function () {
  "use strict";
  var LSC = window.LSC, U = LSC.u;
  var subset = U.subset;

  function applyPriority(p, sel) {
    var g = LSC._built, R = LSC.renderers["lsc-prio"];
    ["icb", "exemplar", "candidate"].forEach(function (k) {
      var on = !!(p && p.show && p[k] && p[k].length);
      var st = (p && p.styles && p.styles[k]) || {};
      // a list on Dec-2019 ward codes is drawn on its own ward shapes (p.geoms[k])
      var fc = (p && p.geoms && g.fc[p.geoms[k]]) || g.fc.wards;
      subset("prio_" + k, fc, on ? p[k] : [], R,
        { stroke: true, fill: false, color: st.color, weight: st.weight, dashArray: st.dash || null, opacity: 1 });
    });
    subset("selected", g.fc.wards, sel != null && sel >= 0 ? [sel] : [], R,
      { stroke: true, fill: false, color: "#000000", weight: 4.5, opacity: 1 });
  }

  LSC.paint.priority = applyPriority;
})();
