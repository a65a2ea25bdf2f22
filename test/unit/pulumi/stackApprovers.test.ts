import { localIdentity } from "../../../driver/host/localIdentity.js";
import { expect } from "chai";
import { mkdtemp, copyFile, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../../driver/core/errors.js";
import { StackFileApprovers } from "../../../driver/pulumi/stackApprovers.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

describe("stack approvers (the one approvals adapter of both targets)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "approvers-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("reads mlops:approvers of Pulumi.prod.yaml", async () => {
    await copyFile(path.join(REPO, "Pulumi.prod.yaml"), path.join(dir, "Pulumi.prod.yaml"));
    const names = await new StackFileApprovers(dir, async () => localIdentity()).approvers("prod");
    expect(names.length).to.be.greaterThan(0);
  });

  it("a missing stack file means nobody may approve", async () => {
    expect(await new StackFileApprovers(dir, async () => localIdentity()).approvers("prod")).to.deep.equal([]);
  });

  it("an invalid stack file is a ConfigError naming the stack, its file and its first problem", async () => {
    await writeFile(path.join(dir, "Pulumi.prod.yaml"), "config:\n  mlops:approvers: 7\n");
    const e = await new StackFileApprovers(dir, async () => localIdentity()).approvers("prod").then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).to.be.instanceOf(ConfigError);
    expect((e as Error).message).to.match(/^stack 'prod': .*\(Pulumi\.prod\.yaml\); fix it and retry$/);
    expect((e as Error).message).to.not.contain("\n");
  });
});
