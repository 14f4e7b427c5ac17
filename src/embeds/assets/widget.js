/* The one-line embed of the Mois de l'innovation publique programme.
 *
 *   <script src="https://API/embed/widget.js" data-region="53" async></script>
 *
 * Inserts an iframe showing /embed/events with the script's data-* attributes as filters
 * (data-organizer-kind="innovation_lab" becomes organizer_kind=innovation_lab; data-title names
 * the frame for screen readers), then sizes it to its content from the height the frame posts.
 * Only the embed's own parameters are passed on: attributes that other tools of the page add
 * (data-cfasync, data-cookieconsent…) are left alone.
 * Only messages from the frame, from this script's own origin, are read. Nothing is loaded from
 * any other host. */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src) return;
  var source = new URL(script.src);
  // The filters of GET /api/v1/events and the embed's options (kept equal to the service's
  // parameters by a test).
  var known = ['q', 'edition', 'track', 'format', 'mode', 'audience', 'region', 'department',
    'organizer', 'organizer_kind', 'lab', 'tag', 'from', 'to', 'near', 'radius_km', 'bbox',
    'status', 'sort', 'limit', 'compact', 'theme', 'lang'];
  var params = new URLSearchParams();
  Array.prototype.forEach.call(script.attributes, function (attribute) {
    if (attribute.name.indexOf('data-') !== 0) return;
    var name = attribute.name.slice(5).replace(/-/g, '_');
    // A bare `data-compact` means true.
    var value = attribute.value === '' && name === 'compact' ? 'true' : attribute.value;
    if (known.indexOf(name) >= 0) params.append(name, value);
  });
  if (/^https?:\/\//.test(window.location.origin)) params.set('origin', window.location.origin);
  var frame = document.createElement('iframe');
  frame.src = source.origin + '/embed/events?' + params.toString();
  frame.title = script.getAttribute('data-title') || (params.get('lang') === 'en'
    ? 'Public Innovation Month programme' : "Programme du Mois de l'innovation publique");
  frame.style.cssText = 'display:block;width:100%;min-height:120px;height:480px;border:0;';
  script.parentNode.insertBefore(frame, script);
  window.addEventListener('message', function (event) {
    if (event.origin !== source.origin || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (data && data.type === 'mip:embed-height' && typeof data.height === 'number' &&
        data.height > 0 && data.height < 100000) {
      frame.style.height = Math.ceil(data.height) + 'px';
    }
  });
})();
