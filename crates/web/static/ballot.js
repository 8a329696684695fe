// Optional helpers; the form works fully without them.

// A mailed form's QR code carries the one-time code in the URL's fragment (#code=…), which
// the browser never sends to the server. Move it into the field, then take it out of the
// address bar and the history entry. Older printed forms put it in ?code=: same.
(function () {
  var field = document.querySelector('input[name="code"]');
  var found = /(?:^|[#&])code=([^&]*)/.exec(location.hash.slice(1)) ||
    /(?:^|[?&])code=([^&#]*)/.exec(location.search);
  if (!found) return;
  if (field && !field.value) {
    try { field.value = decodeURIComponent(found[1]).slice(0, 40); } catch (e) {}
  }
  if (window.history && history.replaceState) {
    history.replaceState(null, '', location.pathname);
  }
})();

// Filters units by name as you type.
(function () {
  var input = document.getElementById('unit-search');
  if (!input) return;
  input.addEventListener('input', function () {
    var q = input.value.trim();
    document.querySelectorAll('details.agency').forEach(function (group) {
      var any = false;
      group.querySelectorAll('fieldset.unit').forEach(function (unit) {
        var hit = !q || unit.dataset.name.indexOf(q) >= 0;
        unit.hidden = !hit;
        any = any || hit;
      });
      group.hidden = !any;
      if (q && any) group.open = true;
    });
  });
})();
