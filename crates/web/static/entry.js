// Optional: Enter in the code field moves to the lines, Ctrl+Enter saves. Works without it.
(function () {
  var key = document.getElementById('key'), text = document.getElementById('text');
  key.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey && key.value.trim() !== '') { e.preventDefault(); text.focus(); }
  });
  text.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); document.getElementById('entry').requestSubmit(); }
  });
})();
