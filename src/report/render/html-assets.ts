/** The inline stylesheet and script of the HTML output (no external asset, ever). */

export const PAGE_STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:0;background:#f6f7f9}
header,nav,main{max-width:1840px;margin:0 auto;padding:0 16px}
header{padding-top:20px}
h1{font-size:22px;margin:0 0 8px}
h2{font-size:17px;margin:28px 0 6px}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:0 0 8px}
dt{color:#5b6373}dd{margin:0}
nav{padding-bottom:8px;font-size:13px}
nav a{color:#1f56b8;text-decoration:none}
nav a:hover,nav a:focus{text-decoration:underline}
section{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:4px 12px 12px;margin:16px 0}
.about,.note,.none{color:#5b6373;margin:4px 0 10px}
svg.chart{display:block;max-width:100%;height:auto;margin:6px 0 12px;font-size:12px;fill:#1d2330}
dd{overflow-wrap:break-word}
.scroll{overflow-x:auto}
.scroll:focus-visible{outline:2px solid #1f56b8}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 6px;border-bottom:1px solid #edf0f4;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f0f2f6;cursor:pointer;user-select:none;vertical-align:bottom}
td.path{min-width:28em}
td.code,td.time,td span,dd span,.note span{white-space:nowrap}
.sev{display:inline-block;padding:0 6px;border-radius:3px;font-weight:600;font-size:12px}
.sev-error{background:#b3261e;color:#fff}
.sev-warning{background:#fbe3a6;color:#5c3b00}
.sev-info{background:#dde8f8;color:#1d3f73}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
.num{text-align:right;font-variant-numeric:tabular-nums}
td.num{white-space:nowrap}
tbody tr:hover{background:#f7f9fd}
`;

/**
 * Sorting: a click on a header sorts its table by that column (again:
 * reversed). Numeric cells sort by their exact value (data-v). The address
 * fragment `#sort=TABLE:COLUMN:asc|desc` applies a sort on load.
 */
export const PAGE_SCRIPT = `
(function(){
  function key(td){var v=td.getAttribute('data-v');return v===null?td.textContent:Number(v);}
  function sortTable(table,col,dir){
    var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);
      var c=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));
      return dir==='asc'?c:-c;});
    rows.forEach(function(r){body.appendChild(r);});
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
      if(i===col)th.setAttribute('aria-sort',dir==='asc'?'ascending':'descending');else th.removeAttribute('aria-sort');});
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'),function(table){
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
      th.addEventListener('click',function(){
        var dir=th.getAttribute('aria-sort')==='ascending'?'desc':'asc';
        if(th.getAttribute('aria-sort')===null&&th.classList.contains('num'))dir='desc';
        sortTable(table,i,dir);});});});
  var m=/^#sort=([a-z0-9-]+):(\\d+):(asc|desc)$/.exec(location.hash);
  if(m){var t=document.getElementById('t-'+m[1]);if(t&&t.tHead.rows[0].cells[Number(m[2])])sortTable(t,Number(m[2]),m[3]);
    document.body.setAttribute('data-sorted',m[1]+':'+m[2]+':'+m[3]);}
})();
`;
