import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isAppError } from "../../src/errors.js";
import { fairSharePriority } from "../../src/services/fair-share.js";
import { formatTenantReports, parseSetQuota } from "../../src/tenants.command.js";

describe("propvid tenants", () => {
  it("parses set-quota: numbers set a quota, `default` returns it to the server's, the rest is left alone", () => {
    assert.deepEqual(
      parseSetQuota(["acme", "--storage-bytes", "1073741824", "--concurrent-jobs", "default"]),
      {
        name: "acme",
        changes: { storageBytes: 1073741824, concurrentJobs: null },
      },
    );
  });

  it("refuses what is not a whole number, no name, or no quota", () => {
    for (const args of [
      ["acme", "--videos-per-month", "-1"],
      ["acme", "--videos-per-month", "1.5"],
      ["acme", "--videos-per-month", "10GB"],
      ["--videos-per-month", "3"],
      ["acme"],
    ]) {
      assert.throws(
        () => parseSetQuota(args),
        (error: unknown) => isAppError(error) && error.code === "BAD_USER_INPUT",
        args.join(" "),
      );
    }
  });

  it("lists each tenant's figures against its limits, marking its own", () => {
    const text = formatTenantReports([
      {
        name: "acme",
        limits: { storageBytes: 5000, videosPerMonth: null, concurrentJobs: 4 },
        own: { storageBytes: true, videosPerMonth: false, concurrentJobs: false },
        storedBytes: 1200,
        videosThisMonth: 7,
        runningJobs: 2,
        waitingJobs: 3,
      },
    ]);
    const [header, row] = text.split("\n");
    assert.match(header!, /^TENANT\s+STORAGE BYTES\s+VIDEOS THIS MONTH\s+RUNNING JOBS\s+WAITING$/);
    assert.match(row!, /^acme\s+1200\/5000\*\s+7\/∞\s+2\/4\s+3$/);
  });
});

describe("fair-share priority", () => {
  it("ranks a tenant with less work in the system above every tenant with at least twice as much", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 7, 8, 20, 50].map(fairSharePriority),
      [0, 0, -1, -1, -2, -2, -3, -4, -5],
    );
  });
});
