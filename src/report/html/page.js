// deja's report page. Everything it shows is in the HTML already (escaped); this script only
// adds and removes classes. The data holds numbers only: per finding [file, start,
// [[source file, source start, shared pieces in the finding, shared pieces in the source,
// score, line], ...], line]; paragraph ids are r<file>-<start>, shared pieces w<file>-<n>.
(() => {
  'use strict';
  const F = JSON.parse(document.getElementById('deja-data').textContent).f;
  const $ = (id) => document.getElementById(id);
  const region = (file, start) => $('r' + file + '-' + start);
  let current = -1;
  let atSource = false;
  let marked = [];

  function mark(el, cls) {
    if (el) {
      el.classList.add(cls);
      marked.push([el, cls]);
    }
  }

  function clear() {
    for (const [el, cls] of marked) {
      el.classList.remove(cls);
      el.removeAttribute('data-srctag');
    }
    marked = [];
    current = -1;
  }

  function select(n, scroll) {
    const f = F[n];
    if (!f) return;
    clear();
    current = n;
    const item = $('f' + n);
    mark(item, 'on');
    mark(region(f[0], f[1]), 'on');
    f[2].forEach((s, j) => {
      const src = region(s[0], s[1]);
      mark(src, 'src');
      if (src) src.setAttribute('data-srctag', 'source ' + (j + 1) + ' of line ' + f[3] + ' · ' + s[4].toFixed(2));
      s[2].forEach((k) => mark($('w' + f[0] + '-' + k), 'sh'));
      s[3].forEach((k) => mark($('w' + s[0] + '-' + k), 'sh'));
    });
    if (item) item.scrollIntoView({ block: 'nearest' });
    atSource = false;
    if (scroll) show(true);
    history.replaceState(null, '', '#f' + n);
  }

  // Scrolls to the finding's first source (true) or to the finding itself (false).
  function show(source) {
    const f = F[current];
    if (!f) return;
    const el = source && f[2].length ? region(f[2][0][0], f[2][0][1]) : region(f[0], f[1]);
    if (el) el.scrollIntoView({ block: 'center' });
    atSource = source && f[2].length > 0;
  }

  function visibleItems() {
    return Array.from(document.querySelectorAll('#list li.item')).filter((li) => li.offsetParent !== null);
  }

  function step(d) {
    const items = visibleItems();
    if (!items.length) return;
    let i = items.findIndex((li) => li.id === 'f' + current);
    i = i < 0 ? (d > 0 ? 0 : items.length - 1) : (i + d + items.length) % items.length;
    select(Number(items[i].dataset.f), true);
    const b = items[i].querySelector('button');
    if (b) b.focus({ preventScroll: true });
  }

  document.addEventListener('click', (e) => {
    if (!(e.target instanceof Element)) return;
    if (e.target.closest('a')) return;
    const el = e.target.closest('[data-f]');
    if (!el) return;
    const n = Number(el.dataset.f);
    // A click in the text keeps the paragraph in place; a click in the list jumps.
    const inList = !!el.closest('#list');
    if (!inList && n === current) return;
    select(n, inList);
  });

  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target instanceof Element && e.target.matches('input[type=text], textarea')) return;
    switch (e.key) {
      case 'j': case 'n': step(1); break;
      case 'k': case 'p': step(-1); break;
      case 'b': case 'Backspace': if (current >= 0) show(!atSource); break;
      case 'Escape': clear(); history.replaceState(null, '', '#'); break;
      default: return;
    }
    e.preventDefault();
  });

  for (const box of document.querySelectorAll('.filters input[data-kind]')) {
    box.addEventListener('change', () => {
      document.body.classList.toggle('no-' + box.dataset.kind, !box.checked);
    });
  }

  const m = /^#f(\d+)$/.exec(location.hash);
  if (m) select(Number(m[1]), true);
  document.documentElement.setAttribute('data-ready', '1');
})();
