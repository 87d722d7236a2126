// web_demo.test.mjs drives Debian's Chromium (headless, through puppeteer-core)
// against a running web demo: the page renders k result images, a click on a
// result searches from it, a label filter keeps only that label, and the SQL,
// time and strategy are shown. It saves a screenshot and ends with
// "web demo: N passed, M failed".
//   node web_demo.test.mjs URL SCREENSHOT.png
import puppeteer from "puppeteer-core";

const [url, screenshot] = process.argv.slice(2);
const K = 8;
const QUERY = 1234;
const FILTER = "3";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
let passed = 0;
let failed = 0;

// check records one named check and prints it TAP-style.
function check(ok, name, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok" : "not ok"} ${passed + failed} - ${name}${ok || !detail ? "" : ` (${detail})`}`);
}

// results reads the rendered results: ids, labels, and whether each canvas has ink on it.
async function results(page) {
  return page.$$eval("#results figure.result", (figs) => figs.map((f) => {
    const canvas = f.querySelector("canvas");
    const data = canvas ? canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data : [];
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] < 200) ink++;
    return { id: f.dataset.id, label: f.dataset.label, canvas: !!canvas, ink };
  }));
}

// ready waits until the page shows the answer for query id (any query when id is null).
async function ready(page, id) {
  await page.waitForFunction((want) => {
    const r = document.getElementById("results");
    return r.dataset.state === "ready" && (want === null || r.dataset.query === String(want));
  }, { timeout: 20000 }, id);
}

let browser = null;
try {
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 560 });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));

  // 1. The page loads and shows the query and k results as images.
  await page.goto(`${url}?id=${QUERY}&k=${K}`, { waitUntil: "load" });
  await ready(page, QUERY);
  let first = await results(page);
  check(first.length === K, `${K} result images rendered`, `got ${first.length}`);
  check(first.every((r) => r.canvas && r.ink > 0), "every result image has ink on it",
    JSON.stringify(first.map((r) => r.ink)));
  const queryInk = await page.$eval("#query canvas", (c) =>
    Array.from(c.getContext("2d").getImageData(0, 0, 8, 8).data).filter((v, i) => i % 4 === 0 && v < 200).length);
  check(queryInk > 0, "the query image is drawn", `ink ${queryInk}`);
  const sql = await page.$eval("#sql", (e) => e.textContent);
  check(sql.includes("ORDER BY image <-> $1") && sql.includes(`LIMIT ${K}`), "the SQL that ran is shown", sql);
  const stats = await page.$eval("#stats", (e) => e.textContent);
  check(/execution \d+\.\d+ ms/.test(stats), "the server time is shown", stats);
  const strategy = await page.$eval("#strategy", (e) => e.textContent);
  check(strategy.includes("digits_image_idx") && /vecdb: segment .*: hnsw/.test(strategy),
    "the plan and vecdb's strategy (hnsw) are shown", strategy);

  // 2. A click on a result searches from it: new query, other results.
  const target = first[0].id;
  await page.click(`#results figure.result[data-id="${target}"]`);
  await ready(page, target);
  const second = await results(page);
  const queryCaption = await page.$eval("#query", (e) => e.textContent);
  check(queryCaption.includes(`#${target}`), "a click makes the clicked digit the query", queryCaption);
  check(second.length === K && second.map((r) => r.id).join() !== first.map((r) => r.id).join(),
    "a click changes the results", `${first.map((r) => r.id)} -> ${second.map((r) => r.id)}`);

  // 3. A label filter: every result has that label, still k of them, and vecdb says how it searched.
  await page.select("#label", FILTER);
  await page.waitForFunction((want) => Array.from(document.querySelectorAll("#results figure.result"))
    .every((f) => f.dataset.label === want) && document.getElementById("results").dataset.state === "ready",
  { timeout: 20000 }, FILTER);
  const filtered = await results(page);
  check(filtered.length === K && filtered.every((r) => r.label === FILTER),
    `with the filter every one of the ${K} results is a ${FILTER}`, JSON.stringify(filtered.map((r) => r.label)));
  const sql3 = await page.$eval("#sql", (e) => e.textContent);
  check(sql3.includes(`AND label = ${FILTER}`), "the SQL shows the filter", sql3);
  const strategy3 = await page.$eval("#strategy", (e) => e.textContent);
  check(/vecdb: segment .*: (exact|filtered)/.test(strategy3), "the filtered search's strategy is shown", strategy3);

  // 4. The random query button searches from another digit.
  const before = await page.$eval("#results", (e) => e.dataset.query);
  await page.click("#random");
  await page.waitForFunction((old) => {
    const r = document.getElementById("results");
    return r.dataset.state === "ready" && r.dataset.query !== old;
  }, { timeout: 20000 }, before);
  check((await results(page)).length === K, "random query renders k results");

  // Back to the click's state with the filter, for the screenshot.
  await page.goto(`${url}?id=${target}&k=${K}&label=${FILTER}`, { waitUntil: "load" });
  await ready(page, target);
  check(errors.length === 0, "no page errors or failed requests", errors.join("; "));
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
} catch (e) {
  check(false, "the browser test ran to its end", String(e && e.stack || e));
} finally {
  if (browser) await browser.close();
}
console.log(`web demo: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
