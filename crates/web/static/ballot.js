// Optional: filters units by name as you type. The form works fully without it.
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
