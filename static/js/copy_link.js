/* The "Copy link to this view" box (layers/share.py inlines it into its st.iframe). */
(function () {
  var b = document.getElementById("b"), u = document.getElementById("u"), s = document.getElementById("s");
  function link() {
    // the page URL (the server keeps it in step with the widgets) + the map's live centre/zoom
    try {
      var u = new URL(window.parent.location.href);
      var f = window.parent.document.querySelector('iframe[title="streamlit_folium.st_folium"]');
      var M = f && f.contentWindow && f.contentWindow.LSC && f.contentWindow.LSC.map;
      if (M) {
        var c = M.getCenter();
        u.searchParams.set("lat", c.lat.toFixed(5)); u.searchParams.set("lon", c.lng.toFixed(5));
        u.searchParams.set("z", String(Math.round(M.getZoom() * 4) / 4));
      }
      return u.toString();
    } catch (e) { try { return window.parent.location.href; } catch (e2) { return ""; } }
  }
  function show() { if (document.activeElement !== u) u.value = link(); }
  show(); setInterval(show, 1000);
  b.addEventListener("click", function () {
    var v = link(); u.value = v;
    function ok() { s.textContent = "Link copied"; document.body.setAttribute("data-copied", v); }
    function fallback() {
      u.focus(); u.select();
      try { if (document.execCommand("copy")) { ok(); return; } } catch (e) {}
      s.textContent = "Select the link above and copy it (Ctrl+C)"; document.body.setAttribute("data-copied", v);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(v).then(ok, fallback);
    else fallback();
  });
})();
