// GraphiQL and the live dashboard (../dashboard/index.html) in headless Chromium.
//
// Needs a running server and its admin: RINGCAST_URL (default http://127.0.0.1:5000),
// ADMIN_EMAIL (default admin@ringcast.local), ADMIN_PASSWORD. Chromium is Debian's
// (CHROMIUM, default /usr/bin/chromium); playwright-core never downloads a browser.
// Screenshots of every step go to SCREENSHOT_DIR (default <repo>/target/browser-screenshots).
// `../../.ci/browser.sh <ringcast binary>` sets all of this up and runs it.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");
const SERVER = (process.env.RINGCAST_URL || "http://127.0.0.1:5000").replace(/\/+$/, "");
const ADMIN_EMAIL = process.env.ADMIN_EMAIL || "admin@ringcast.local";
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = path.resolve(process.env.SCREENSHOT_DIR || path.join(repoRoot, "target/browser-screenshots"));
const DASHBOARD = path.join(repoRoot, "client-examples/dashboard/index.html");
const CALL_DEADLINE_MS = Number(process.env.CALL_DEADLINE_SECS || 180) * 1000;

assert.ok(ADMIN_PASSWORD, "set ADMIN_PASSWORD (and ADMIN_EMAIL, RINGCAST_URL) for the server under test");

const log = (...a) => console.log("  ·", ...a);

// ------------------------------------------------------------------ GraphQL from node
async function gql(token, query, variables) {
  const res = await fetch(SERVER + "/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: "Bearer " + token } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function importCsv(token, campaignId, csv) {
  const form = new FormData();
  form.set("operations", JSON.stringify({
    query: "mutation($i: ImportContactsInput!) { importContacts(input: $i) { import { id status } } }",
    variables: { i: { campaignId, file: null } },
  }));
  form.set("map", JSON.stringify({ 0: ["variables.i.file"] }));
  form.set("0", new Blob([csv], { type: "text/csv" }), "contacts.csv");
  const res = await fetch(SERVER + "/graphql", {
    method: "POST", headers: { authorization: "Bearer " + token }, body: form,
  });
  const body = await res.json();
  if (body.errors) throw new Error(`importContacts: ${JSON.stringify(body.errors)}`);
  // The answer comes at once; the file is read in the background: ask until it is finished.
  const id = body.data.importContacts.import.id;
  const until = Date.now() + 60_000;
  for (;;) {
    const { import: current } = await gql(token,
      "query($id: ID!) { import(id: $id) { status failureReason rowsImported invalid } }", { id });
    if (!["QUEUED", "RUNNING"].includes(current.status)) return current;
    if (Date.now() > until) throw new Error(`import unfinished: ${JSON.stringify(current)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// Destinations in a country whose calling hours are open now and for the next half hour.
const COUNTRIES = [
  ["GB", "+4474001", 5, ["Europe/London"]],
  ["JP", "+81901234", 4, ["Asia/Tokyo"]],
  ["US", "+14152", 6, ["America/Los_Angeles", "America/New_York"]],
  ["IN", "+91981234", 4, ["Asia/Kolkata"]],
  ["NZ", "+64211", 6, ["Pacific/Auckland"]],
];
function minutesOfDay(zone, at) {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .formatToParts(at);
  const get = (t) => Number(parts.find((p) => p.type === t).value);
  return get("hour") * 60 + get("minute");
}
function openCountry() {
  const now = new Date();
  const soon = new Date(now.getTime() + 30 * 60 * 1000);
  const open = (z) => [now, soon].every((t) => { const m = minutesOfDay(z, t); return m >= 8 * 60 && m < 20 * 60; });
  const pick = COUNTRIES.find(([, , , zones]) => zones.every(open));
  assert.ok(pick, "no listed country is inside calling hours now");
  return pick;
}
// Numbers ending in 1 are answered by the emulator, which presses 1. A random block of them,
// so that a rerun against the same database is not held back by the per-number caps.
function numbersFor([, prefix, width], n) {
  const base = Math.floor(Math.random() * (10 ** (width - 1) - n));
  return Array.from({ length: n }, (_, i) => prefix + String((base + i) * 10 + 1).padStart(width, "0"));
}

// ------------------------------------------------------------------ the page's own origin
// The dashboard is a static file. If the server allows this origin (CORS), the page calls it
// directly with ?server=; otherwise this little server also forwards /graphql, /graphql/ws and
// /healthz to it, so the page and the API share one origin, as behind a reverse proxy.
let proxy = false;
function startPageServer() {
  const target = new URL(SERVER);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname === "/" || url.pathname === "/index.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      createReadStream(DASHBOARD).pipe(res);
      return;
    }
    if (!proxy) { res.writeHead(404).end(); return; }
    const up = http.request({
      host: target.hostname, port: target.port, method: req.method, path: req.url,
      headers: { ...req.headers, host: target.host },
    }, (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
    up.on("error", (e) => { res.writeHead(502).end(String(e)); });
    req.pipe(up);
  });
  // Websocket upgrades: replay the request head to the server and splice the two sockets.
  server.on("upgrade", (req, socket, head) => {
    if (!proxy) { socket.destroy(); return; }
    const up = net.connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const [k, v] = [req.rawHeaders[i], req.rawHeaders[i + 1]];
        lines.push(`${k}: ${k.toLowerCase() === "host" ? target.host : v}`);
      }
      up.write(lines.join("\r\n") + "\r\n\r\n");
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    const end = () => { up.destroy(); socket.destroy(); };
    up.on("error", end);
    socket.on("error", end);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function corsAllows(origin) {
  const res = await fetch(SERVER + "/graphql", {
    method: "OPTIONS",
    headers: {
      origin, "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,content-type",
    },
  });
  const allow = res.headers.get("access-control-allow-origin");
  const headers = (res.headers.get("access-control-allow-headers") || "").toLowerCase();
  return {
    status: res.status, allow,
    ok: res.ok && (allow === "*" || allow === origin) && (headers === "*" || headers.includes("authorization")),
  };
}

// ------------------------------------------------------------------ GraphiQL's assets
// The GraphiQL page loads React and GraphiQL from a public CDN by /<package>@<version>/<file>.
// Nothing outside this machine is reachable, so those requests are answered from node_modules
// (the same packages, pinned in package.json); any other outside request is refused.
const PACKAGE_PATH = /^\/((?:@[^/@]+\/)?[^/@]+)@[^/]+\/(.+)$/;
const TYPES = { js: "application/javascript", css: "text/css", map: "application/json" };
async function serveExternal(route) {
  const url = new URL(route.request().url());
  if (["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) return route.fallback();
  const m = PACKAGE_PATH.exec(url.pathname);
  const file = m && path.join(here, "node_modules", m[1], m[2]);
  if (file && file.startsWith(path.join(here, "node_modules") + path.sep) && existsSync(file)) {
    return route.fulfill({
      status: 200, body: readFileSync(file),
      headers: { "content-type": TYPES[path.extname(file).slice(1)] || "application/octet-stream",
                 "access-control-allow-origin": "*" },
    });
  }
  externalRefused.push(url.href);
  return route.abort("blockedbyclient");
}
const externalRefused = [];

// ------------------------------------------------------------------ shared state
let context, userDataDir, pageServer, pageUrl, mode;
const fixture = {};
let shot = 0;
async function screenshot(page, name) {
  const file = path.join(SHOTS, `${String(++shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: "disabled" });
  log("screenshot", path.relative(repoRoot, file));
}
function watch(page, label) {
  const errors = [];
  page.on("pageerror", (e) => { errors.push(String(e)); console.error(`  ! ${label} page error:`, e); });
  page.on("console", (m) => {
    if (m.type() === "error") console.error(`  ! ${label} console:`, m.text().split("\n")[0].slice(0, 200));
  });
  return errors;
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`);

  // Admin funds a fresh user and gives them a caller ID; the user creates a campaign and
  // imports contacts. It is started later, once the dashboard is watching it.
  const admin = (await gql(null, `mutation($i: LoginInput!) { login(input: $i) { accessToken } }`,
    { i: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })).login.accessToken;
  fixture.adminToken = admin;
  fixture.adminEmail = ADMIN_EMAIL;
  fixture.email = `dashboard-${Date.now()}@example.com`;
  fixture.password = "browser-test-password-1";
  const reg = (await gql(null, `mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }`,
    { i: { email: fixture.email, password: fixture.password, name: "Dashboard Tester" } })).register;
  fixture.token = reg.accessToken;
  await gql(admin, `mutation($i: AdjustBalanceInput!) { adjustBalance(input: $i) { entry { id } } }`,
    { i: { userId: reg.user.id, amount: 1_000_000, reason: "browser test" } });
  const dids = (await gql(admin, `{ dids(first: 50, filter: { unassigned: true, status: ACTIVE }) { nodes { id phoneNumber } } }`)).dids.nodes;
  assert.ok(dids.length, "no unassigned ACTIVE number to use as caller ID");
  await gql(admin, `mutation($i: AssignDidInput!) { assignDid(input: $i) { did { id } } }`,
    { i: { didId: dids[0].id, userId: reg.user.id } });

  const country = openCountry();
  fixture.numbers = numbersFor(country, 3);
  fixture.campaignName = `Browser test ${new Date().toISOString().slice(0, 19)}Z`;
  const created = (await gql(reg.accessToken, `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }`, {
    i: {
      name: fixture.campaignName, purpose: "REMINDER", defaultCountry: country[0],
      message: { text: "Hello {{name}}, this is a reminder." },
      callerIds: [dids[0].id],
      consent: { basis: "EXISTING_CUSTOMER", source: "browser test", collectedAt: "2026-01-01T00:00:00Z" },
    },
  })).createCampaign.campaign;
  fixture.campaignId = created.id;
  const report = await importCsv(reg.accessToken, created.id,
    "phone,name\n" + fixture.numbers.map((n, i) => `${n},Contact ${i + 1}`).join("\n") + "\n");
  assert.equal(report.status, "COMPLETED", `import: ${JSON.stringify(report)}`);
  assert.equal(report.rowsImported, fixture.numbers.length, `import: ${JSON.stringify(report)}`);
  log(`campaign "${fixture.campaignName}" (${created.id}) with ${country[0]} numbers ${fixture.numbers.join(", ")}`);

  // Where the dashboard page lives, and whether it can call the server across origins.
  pageServer = await startPageServer();
  const origin = `http://127.0.0.1:${pageServer.address().port}`;
  const cors = await corsAllows(origin);
  mode = process.env.DASHBOARD_MODE || (cors.ok ? "direct" : "proxy");
  proxy = mode === "proxy";
  log(`CORS preflight from ${origin}: HTTP ${cors.status}, Access-Control-Allow-Origin: ${cors.allow ?? "(none)"} -> ${mode} mode`);
  pageUrl = proxy ? `${origin}/` : `${origin}/?server=${encodeURIComponent(SERVER)}`;

  userDataDir = mkdtempSync(path.join(os.tmpdir(), "ringcast-chromium-"));
  // A persistent context is how playwright takes a user-data-dir: a fresh one, removed after.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1360, height: 900 },
  });
  await context.route("**/*", serveExternal);
  log("chromium", context.browser()?.version() ?? "");
});

after(async () => {
  if (context) await context.close();
  if (pageServer) pageServer.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (externalRefused.length) log("refused outside requests:", [...new Set(externalRefused)].join(", "));
});

// ------------------------------------------------------------------ GraphiQL
test("GraphiQL runs { me { id email } } with the Authorization header", async () => {
  const page = await context.newPage();
  const errors = watch(page, "graphiql");
  // GraphiQL asks for the schema as soon as it loads; note what the server says.
  const introspection = new Promise((resolve) => {
    page.on("response", async (r) => {
      if (!r.url().endsWith("/graphql") || r.request().method() !== "POST") return;
      if (!(r.request().postData() || "").includes("__schema")) return;
      resolve(await r.json().catch(() => ({ errors: [{ message: `HTTP ${r.status()}` }] })));
    });
  });
  try {
    await page.goto(SERVER + "/graphiql");
    const queryEditor = page.locator(".graphiql-query-editor .CodeMirror").first();
    await queryEditor.waitFor({ timeout: 30_000 });
    await screenshot(page, "graphiql-loaded");

    // The headers editor: open the Headers tab, replace its text.
    await page.getByRole("button", { name: "Headers", exact: true }).click();
    const headersEditor = page.locator(".graphiql-editor-tool .CodeMirror:visible");
    await headersEditor.waitFor();
    await headersEditor.click();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${fixture.adminToken}` }, null, 2));

    await queryEditor.click();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.insertText("{ me { id email } }");
    await screenshot(page, "graphiql-query-and-headers");

    await page.locator("button.graphiql-execute-button").click();
    await page.waitForFunction(
      (email) => (document.querySelector(".graphiql-response")?.innerText || "").includes(email),
      fixture.adminEmail, { timeout: 30_000, polling: 200 });
    const response = await page.locator(".graphiql-response").innerText();
    assert.match(response, /"me"/);
    assert.ok(!/UNAUTHENTICATED/.test(response), response);
    await screenshot(page, "graphiql-result");
    const schema = await Promise.race([introspection, new Promise((r) => setTimeout(() => r(null), 5000))]);
    if (!schema) log("GraphiQL sent no introspection query");
    else if (schema.errors) {
      // Without the schema GraphiQL has no docs, completion or validation.
      log("WARNING: GraphiQL's introspection query was refused:", JSON.stringify(schema.errors));
      if (process.env.REQUIRE_INTROSPECTION) assert.fail("introspection refused");
    } else log("GraphiQL loaded the schema by introspection");
    assert.deepEqual(errors, []);
  } catch (e) {
    await screenshot(page, "graphiql-failure").catch(() => {});
    throw e;
  } finally {
    await page.close();
  }
});

// ------------------------------------------------------------------ the dashboard
test("the dashboard signs in, opens a campaign and shows its calls live", async () => {
  const page = await context.newPage();
  const errors = watch(page, "dashboard");
  try {
    await page.goto(pageUrl);
    if (mode === "proxy") {
      // Served next to the API, the page's default server is its own origin.
      assert.equal(await page.inputValue("#server"), new URL(pageUrl).origin);
    } else {
      assert.equal(await page.inputValue("#server"), SERVER);
    }
    await page.fill("#email", fixture.email);
    await page.fill("#password", fixture.password);
    await screenshot(page, "dashboard-sign-in");
    await page.click("#login-button");

    const row = page.locator("#campaigns tbody tr", { hasText: fixture.campaignName });
    const loginError = page.locator("#login-error:not(:empty)");
    await row.or(loginError).waitFor({ timeout: 20_000 });
    if (await loginError.isVisible()) assert.fail(`sign-in failed: ${await loginError.innerText()}`);
    await screenshot(page, "dashboard-campaigns");
    await row.click();
    await page.locator("#live.on").waitFor({ timeout: 20_000 });
    await page.locator("#dash-status", { hasText: "DRAFT" }).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator("#events tbody tr").count(), 0, "a draft campaign has no calls yet");

    // Start it now: everything that follows reaches the page through its subscriptions.
    const started = await gql(fixture.token,
      `mutation($i: StartCampaignInput!) { startCampaign(input: $i) { campaign { status } } }`,
      { i: { id: fixture.campaignId } });
    log("startCampaign ->", started.startCampaign.campaign.status);

    const t0 = Date.now();
    await page.waitForFunction(() => document.querySelectorAll("#events tbody tr").length > 0,
      null, { timeout: CALL_DEADLINE_MS, polling: 250 });
    log(`first call event after ${((Date.now() - t0) / 1000).toFixed(1)} s:`,
      await page.locator("#events tbody tr").first().innerText());
    await page.locator("#dash-status", { hasText: /RUNNING|COMPLETED/ }).waitFor({ timeout: 20_000 });
    await screenshot(page, "dashboard-first-call-event");
    await page.waitForFunction(() =>
      Number(document.querySelector('#call-tiles [data-k="attempts"] .v')?.textContent.replace(/\D/g, "")) > 0,
    null, { timeout: CALL_DEADLINE_MS, polling: 250 });
    log(`campaignProgress counted the first attempt after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // Then to the end: every call completed, every contact done, the campaign COMPLETED.
    const total = fixture.numbers.length;
    await page.waitForFunction((n) => {
      const tile = (k) => Number(document.querySelector(`#contact-tiles [data-k="${k}"] .v`)?.textContent.replace(/\D/g, ""));
      return document.querySelectorAll('#events tbody tr[data-status="COMPLETED"]').length === n &&
        tile("done") === n && document.querySelector("#dash-status")?.textContent === "COMPLETED";
    }, total, { timeout: CALL_DEADLINE_MS, polling: 250 });
    const attempts = await page.locator('#call-tiles [data-k="attempts"] .v').innerText();
    assert.ok(Number(attempts.replace(/\D/g, "")) >= total, `attempts tile: ${attempts}`);
    for (const n of await page.locator("#events tbody tr td:nth-child(2)").allInnerTexts()) {
      assert.ok(fixture.numbers.includes(n), `unexpected number ${n} in the events table`);
    }
    await screenshot(page, "dashboard-progress");
    assert.deepEqual(errors, []);
  } catch (e) {
    await screenshot(page, "dashboard-failure").catch(() => {});
    const state = await page.evaluate(() => ["#dash-status", "#progress-text", "#skips", "#live", "#campaigns-error"]
      .map((q) => `${q}: ${document.querySelector(q)?.textContent.trim()}`).join("; ")).catch(() => "");
    if (state) e.message += `\n    page: ${state}`;
    throw e;
  } finally {
    await page.close();
  }
});
