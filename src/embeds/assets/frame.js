/* Inside the embed: tells the page that frames it how tall the content is, whenever that
 * changes, so that widget.js sizes the iframe without a scrollbar. The message goes only to the
 * origin widget.js named (the `origin` parameter), or to any page when it named none: it holds
 * nothing but a height. */
(function () {
  'use strict';
  if (window.parent === window) return;
  var origin = new URLSearchParams(window.location.search).get('origin');
  var target = origin && /^https?:\/\/[^\/?#]+$/.test(origin) ? origin : '*';
  var last = -1;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: 'mip:embed-height', height: height }, target);
  }
  if ('ResizeObserver' in window) new ResizeObserver(report).observe(document.documentElement);
  window.addEventListener('load', report);
  report();
})();
