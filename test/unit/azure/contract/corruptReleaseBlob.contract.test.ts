/**
 * The azure release store (one JSON blob per release) with one corrupt or truncated record: the record is named
 * in a warning and quarantined (copied to <id>.json.corrupt-<stamp>, then the original deleted only if unchanged:
 * If-Match), and every other release still lists and loads. Contract test against the loopback Blob fake.
 */
import { expect } from "chai";
import { NotFoundError } from "../../../../driver/core/errors.js";
import { newRelease } from "../../../../driver/core/release.js";
import { BlobReleaseStore } from "../../../../driver/targets/azure/blobReleaseStore.js";
import { accountOf, FakeAzure } from "../support/fakeAzure.js";
import { clientsFor } from "../support/harness.js";

describe("azure blob release store: a corrupt record (contract test)", function () {
  this.timeout(20_000);
  let fake: FakeAzure;
  beforeEach(async () => {
    fake = await new FakeAzure().start();
  });
  afterEach(() => fake.stop());

  const GOOD = "rel-20261127-090000-aaaa";
  const BAD = "rel-20261127-100000-bbbb";

  it("contract test: list warns, moves the truncated blob aside intact, and still lists the others; loading it by id is not-found naming where it went", async () => {
    const ws = clientsFor(fake, "int");
    const warnings: string[] = [];
    const store = new BlobReleaseStore({ container: () => ws.container(), warn: (m) => warnings.push(m) });
    await store.save(newRelease(GOOD, "azure", "diabetes-ridge", "2026-11-27T09:00:00Z"));
    const truncated = JSON.stringify(newRelease(BAD, "azure", "diabetes-ridge", "2026-11-27T10:00:00Z")).slice(0, 80);
    fake.putBlob(accountOf("ws-int"), `mlops/releases/${BAD}.json`, Buffer.from(truncated));

    expect((await store.list()).map((r) => r.id)).to.deep.equal([GOOD]);
    expect(warnings).to.have.length(1);
    expect(warnings[0])
      .to.include(BAD)
      .and.to.match(/moved aside to mlops\/releases\/.*\.json\.corrupt-/);
    const names = [...fake.blobs.keys()].filter((k) => k.includes("/mlops/releases/"));
    const aside = names.find((k) => k.includes(`${BAD}.json.corrupt-`));
    expect(aside, names.join(",")).to.be.a("string");
    expect(fake.blobs.get(aside!)!.data.toString("utf8")).to.equal(truncated);
    expect(names.some((k) => k.endsWith(`${BAD}.json`))).to.equal(false);
    const del = fake.requests.find((q) => q.method === "DELETE" && q.path.endsWith(`${BAD}.json`));
    expect(del!.headers["if-match"]).to.match(/^"0x/);

    expect((await store.list()).map((r) => r.id)).to.deep.equal([GOOD]);
    expect(warnings).to.have.length(1);
    const err = await store.load(BAD).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NotFoundError);
    expect((await store.load(GOOD)).id).to.equal(GOOD);
  });
});
