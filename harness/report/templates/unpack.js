/* The page's packed documents (the drill-down's answers, the review queue): gzip-compressed JSON in base64,
   written by harness.report.drilldown.pack. base64 text -> bytes -> gunzip (the browser's own
   DecompressionStream) -> UTF-8 text -> the document, as a Promise. */
function harnessUnpack(text) {
  var bin = atob(text.trim());
  var bytes = new Uint8Array(bin.length);
  for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text().then(JSON.parse);
}
