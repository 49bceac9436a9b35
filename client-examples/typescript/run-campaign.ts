// Runs a small campaign over HTTP (fetch) and prints every callUpdated event from a graphql-ws
// subscription until each contact's call has ended.
// Env: RINGCAST_URL (http://127.0.0.1:5000), RINGCAST_EMAIL, RINGCAST_PASSWORD, DEADLINE_SECS
// (300). The user needs a number and a balance: see ../README.md.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const url = (process.env.RINGCAST_URL ?? "http://127.0.0.1:5000").replace(/\/$/, "");
const email = process.env.RINGCAST_EMAIL ?? "admin@ringcast.local";
const password = process.env.RINGCAST_PASSWORD ?? fail("set RINGCAST_PASSWORD");
const deadlineMs = Number(process.env.DEADLINE_SECS ?? 300) * 1000;
const FINAL = new Set(["COMPLETED", "BUSY", "NO_ANSWER", "FAILED", "CANCELED"]);

interface Call {
  id: string;
  contactId: string;
  to: string;
  status: string;
  attempt: number;
  durationSecs: number | null;
  digits: string[];
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

setTimeout(() => fail("not finished by the deadline"), deadlineMs).unref();
let token = "";

// POSTs a query (JSON, or a multipart form for uploads) and returns its data, failing on errors.
async function gql<T>(query: string, variables: object = {}, upload?: { path: string; file: Blob }): Promise<T> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let body: string | FormData;
  if (upload) {
    // The GraphQL multipart request spec: operations, a map, then the file.
    body = new FormData();
    body.append("operations", JSON.stringify({ query, variables }));
    body.append("map", JSON.stringify({ 0: [upload.path] }));
    body.append("0", upload.file, "contacts.csv");
  } else {
    headers["content-type"] = "application/json";
    body = JSON.stringify({ query, variables });
  }
  const answer = await (await fetch(`${url}/graphql`, { method: "POST", headers, body })).json();
  if (answer.errors || !answer.data) fail(JSON.stringify(answer, null, 2));
  return answer.data as T;
}

const countries: [string, number, string[]][] = [
  ["+4474001", 5, ["Europe/London"]],
  ["+81901234", 4, ["Asia/Tokyo"]],
  ["+14152", 6, ["America/Los_Angeles", "America/New_York"]],
  ["+91981234", 4, ["Asia/Kolkata"]],
  ["+64211", 6, ["Pacific/Auckland"]],
];

// Numbers where it is 08:00-19:30 now: calls are only placed in the callee's calling hours. They
// end in 1 (the emulator answers) and start at a random block, so reruns stay clear of the caps
// on calls to one number.
function awakeNumbers(count: number): string[] {
  const minutes = (zone: string) => {
    const [h, m] = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .format(new Date())
      .split(":")
      .map(Number);
    return h * 60 + m;
  };
  for (const [prefix, digits, zones] of countries) {
    if (zones.every((z) => minutes(z) >= 8 * 60 && minutes(z) <= 19 * 60 + 30)) {
      const block = Math.floor(Math.random() * 990);
      return Array.from({ length: count }, (_, i) => prefix + String((block + i) * 10 + 1).padStart(digits, "0"));
    }
  }
  return fail("no country is in calling hours now");
}

const login = await gql<{ login: { accessToken: string } }>(
  "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
  { input: { email, password } },
);
token = login.login.accessToken;

const { myDids } = await gql<{ myDids: { nodes: { id: string; status: string }[] } }>(
  "{ myDids(first: 50) { nodes { id status } } }",
);
const callerId = myDids.nodes.find((n) => n.status === "ACTIVE")?.id ?? fail(`${email} has no active number: see README.md`);

const created = await gql<{ createCampaign: { campaign: { id: string } } }>(
  "mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { campaign { id } } }",
  {
    input: {
      name: "TypeScript example",
      purpose: "REMINDER",
      callerIds: [callerId],
      message: { text: "Hello {{name}}, this is a reminder of your appointment.", language: "en-US", voice: "Polly.Joanna" },
      menu: { prompt: "Press 1 to confirm.", options: [{ digit: "1", action: "HANGUP" }] },
      consent: { basis: "EXISTING_CUSTOMER", source: "CRM export", collectedAt: "2026-01-01T00:00:00Z" },
    },
  },
);
const campaignId = created.createCampaign.campaign.id;
console.log("campaign", campaignId);

const csv = ["phone,name", ...awakeNumbers(3).map((n, i) => `${n},Contact ${i + 1}`)].join("\n") + "\n";
const { importContacts } = await gql<{ importContacts: { import: { id: string; status: string } } }>(
  "mutation($input: ImportContactsInput!) { importContacts(input: $input) { import { id status } } }",
  { input: { campaignId, file: null } },
  { path: "variables.input.file", file: new Blob([csv], { type: "text/csv" }) },
);
// The answer comes at once; the file is read in the background: ask until it is finished.
type ImportState = { status: string; failureReason: string | null; rowsImported: number; invalid: number };
let report: ImportState = { status: "QUEUED", failureReason: null, rowsImported: 0, invalid: 0 };
for (;;) {
  ({ import: report } = await gql<{ import: ImportState }>(
    "query($id: ID!) { import(id: $id) { status failureReason rowsImported invalid } }",
    { id: importContacts.import.id },
  ));
  console.log("import", report);
  if (report.status === "COMPLETED") break;
  if (report.status === "FAILED" || report.status === "CANCELLED") throw new Error(`import ${report.status}: ${report.failureReason}`);
  await new Promise((resolve) => setTimeout(resolve, 200));
}

let connected = () => {};
const ready = new Promise<void>((resolve) => (connected = resolve));
const live = createClient({
  url: url.replace(/^http/, "ws") + "/graphql/ws",
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  on: { connected: () => connected() },
});
const events = live.iterate<{ callUpdated: Call }>({
  query: `subscription($campaignId: ID) {
    callUpdated(campaignId: $campaignId) { id contactId to status attempt durationSecs digits } }`,
  variables: { campaignId },
});

const watch = (async () => {
  const ended = new Set<string>();
  for await (const event of events) {
    if (event.errors || !event.data) fail(JSON.stringify(event));
    const call = event.data.callUpdated;
    console.log(
      `${call.to.padEnd(16)} ${call.status.padEnd(12)} attempt ${call.attempt}  ${String(call.durationSecs ?? 0).padStart(3)}s  digits ${call.digits.join("") || "-"}`,
    );
    if (FINAL.has(call.status)) ended.add(call.contactId);
    if (ended.size === report.rowsImported) return;
  }
})();

// The subscription goes out as soon as the server acknowledges the connection: start only then,
// so that no call's first events are missed.
await ready;
await gql("mutation($input: StartCampaignInput!) { startCampaign(input: $input) { campaign { status } } }", {
  input: { id: campaignId },
});
await watch;

// Each contact is settled a moment after its call ends: wait for that before the totals.
type Stats = { campaign: { stats: { contacts: { pending: number; calling: number } } } };
const campaignStats = () =>
  gql<Stats>(
    `query($id: ID!) { campaign(id: $id) { status stats {
      contacts { total pending calling done failed skipped optedOut } answered busy noAnswer failed machine cost } } }`,
    { id: campaignId },
  );
let stats = await campaignStats();
while (stats.campaign.stats.contacts.pending + stats.campaign.stats.contacts.calling > 0) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  stats = await campaignStats();
}
console.log(JSON.stringify(stats.campaign));
await live.dispose();
