// Drives hoist serve's web UI in headless Chromium like an operator would, asserting what each
// page shows, and saves screenshots with the boxes of the elements the Rust side checks in them.
// Usage: node drive.mjs BASE_URL ADMIN_PASSWORD OUT_DIR   (prints one JSON report on stdout)
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";

const [base, adminPw, out] = process.argv.slice(2);
const report = { steps: [], boxes: {}, shots: [] };
const step = (s) => {
  report.steps.push(s);
  process.stderr.write(`[ui] ${s}\n`);
};

const browser = await chromium.launch({
  executablePath: process.env.HOIST_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const timeout = 20_000;
let page;
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  page = await ctx.newPage();
  page.setDefaultTimeout(timeout);
  const consoleErrors = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  const shot = async (name) => {
    await page.screenshot({ path: `${out}/${name}.png` });
    report.shots.push(name);
  };
  const box = async (name, locator) => {
    const b = await locator.boundingBox();
    assert.ok(b, `${name} is on screen`);
    report.boxes[name] = b;
  };

  // Sign in: a wrong password is refused on the form, the right one opens the runs list.
  await page.goto(base);
  await page.fill("#login-name", "admin");
  await page.fill("#login-password", "not-the-password");
  await page.click("#login-submit");
  await page.locator("#form-error", { hasText: "unknown user or wrong password" }).waitFor();
  step("a wrong password is refused on the form");
  await page.fill("#login-password", adminPw);
  await page.click("#login-submit");
  await page.locator("#runs tbody tr[data-run]").first().waitFor();
  step("signed in: the runs list");

  // The runs list shows the history the test made: one ok run and one failed run.
  const okRow = page.locator("#runs tr[data-run]", { has: page.locator('[data-status="ok"]') }).first();
  const failedRow = page.locator("#runs tr[data-run]", { has: page.locator('[data-status="failed"]') }).first();
  await okRow.waitFor();
  await failedRow.waitFor();
  await box("runs_ok_badge", okRow.locator(".badge"));
  await box("runs_failed_badge", failedRow.locator(".badge"));
  await shot("runs");
  step("runs list with status badges");

  // Start a run from the form and watch it live: per-host state and output as it happens.
  await page.click('a[data-nav="new"]');
  await page.locator("#playbook option", { hasText: "live.yml" }).waitFor({ state: "attached" });
  await page.selectOption("#playbook", "live.yml");
  await page.selectOption("#inventory", "inventory.yml");
  await page.fill("#extra-vars", '{"greeting": "hello from the browser"}');
  await page.click("#start");
  await page.waitForURL(/#\/runs\/\d+$/);
  const liveId = page.url().split("/").pop();
  await page.locator('#hosts tr[data-host="localhost"] [data-status="running"]').waitFor();
  await page.locator("#log", { hasText: "hello from the browser" }).waitFor();
  const midway = await page.locator("#run-status .badge").getAttribute("data-status");
  assert.equal(midway, "running", "the run is shown running while its tasks go on");
  await box("live_running_badge", page.locator("#run-status .badge"));
  await shot("run-live");
  step(`run #${liveId} followed live (host running, output streamed)`);
  await page.locator('#run-status [data-status="ok"]').waitFor({ timeout: 60_000 });
  await page.locator('#hosts tr[data-host="localhost"] [data-status="changed"]').waitFor();
  const changed = await page.locator('#hosts tr[data-host="localhost"] [data-count="changed"]').textContent();
  assert.equal(changed.trim(), "3", "three changed tasks counted for the host");
  assert.ok(await page.locator("#cancel").isHidden(), "no cancel button on a finished run");
  await box("live_done_badge", page.locator("#run-status .badge"));
  await shot("run-done");
  step(`run #${liveId} finished ok with per-host counts`);

  // Bad input on the form: extra vars that are not JSON never reach the server.
  await page.click('a[data-nav="new"]');
  await page.locator("#playbook option", { hasText: "live.yml" }).waitFor({ state: "attached" });
  await page.fill("#extra-vars", "{not json");
  await page.click("#start");
  await page.locator("#form-error", { hasText: "Extra vars: not JSON" }).waitFor();
  step("malformed extra vars refused on the form");

  // Cancel a running run from its page.
  await page.fill("#extra-vars", "");
  await page.selectOption("#playbook", "slow.yml");
  await page.click("#start");
  await page.waitForURL(/#\/runs\/\d+$/);
  await page.locator("#log", { hasText: "started" }).waitFor();
  await page.click("#cancel");
  await page.locator('#run-status [data-status="cancelled"]').waitFor({ timeout: 30_000 });
  step("a running run cancelled from its page");

  // Schedules: a bad cron is refused with the server's message, a good one is listed.
  await page.click('a[data-nav="schedules"]');
  await page.locator("#new-schedule").waitFor();
  await page.fill("#schedule-name", "nightly-backup");
  await page.fill("#schedule-cron", "every night");
  await page.selectOption("#playbook", "site.yml");
  await page.click("#create-schedule");
  await page.locator("#form-error", { hasText: "cron `every night`" }).waitFor();
  await page.fill("#schedule-cron", "0 3 * * *");
  await page.click("#create-schedule");
  await page.locator('#schedules tr[data-schedule="nightly-backup"]').waitFor();
  await shot("schedules");
  await page.locator('#schedules tr[data-schedule="nightly-backup"] button', { hasText: "Disable" }).click();
  await page.locator('#schedules tr[data-schedule="nightly-backup"]', { hasText: "disabled" }).waitFor();
  step("schedule created (bad cron refused) and disabled");

  // Users: an admin creates a viewer.
  await page.click('a[data-nav="users"]');
  await page.fill("#user-name", "vic");
  await page.fill("#user-password", "viewer-password-1");
  await page.selectOption("#user-role", "viewer");
  await page.click("#create-user");
  await page.locator('#users tr[data-user="vic"]').waitFor();
  await shot("users");
  step("user created");

  // The viewer sees the history but may not start runs: the API's 403 shows on the form.
  await page.click("#logout");
  await page.fill("#login-name", "vic");
  await page.fill("#login-password", "viewer-password-1");
  await page.click("#login-submit");
  await page.locator("#runs tbody tr[data-run]").first().waitFor();
  await page.click('a[data-nav="new"]');
  await page.locator("#playbook option", { hasText: "site.yml" }).waitFor({ state: "attached" });
  await page.click("#start");
  await page.locator("#form-error", { hasText: "operator" }).waitFor();
  step("a viewer's run is refused with the role it needs");
  await page.click('a[data-nav="users"]');
  await page.locator("main", { hasText: "Only administrators manage users." }).waitFor();
  step("a viewer does not manage users");

  // The refusals this session provoked on purpose (wrong password, a viewer's run, a bad cron)
  // are logged by the browser as failed loads; anything else is a defect.
  assert.deepEqual(consoleErrors.filter((e) => !/status of (401|403|422) /.test(e)), [], "no script errors");
  report.ok = true;
} catch (e) {
  // What the page showed when a step gave up, for the test's failure message.
  report.failure = { url: page?.url(), main: await page?.locator("main").innerText({ timeout: 2000 }).catch(() => null) };
  await page?.screenshot({ path: `${out}/failure.png` }).catch(() => {});
  process.stderr.write(`[ui] failed at ${report.failure.url}; the page read:\n${report.failure.main}\n`);
  throw e;
} finally {
  await browser.close();
  writeFileSync(`${out}/report.json`, JSON.stringify(report, null, 1));
}
console.log(JSON.stringify(report));
