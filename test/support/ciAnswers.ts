/** What the approver tests of both CI systems share: a fetch that answers JSON, and the one-line refusal they expect. */
import { expect } from "chai";
import { ApprovalError } from "../../driver/core/errors.js";

/** A fetch answering 200 with this body as JSON. */
export const jsonAnswer =
  (body: BodyInit): typeof fetch =>
  async () =>
    new Response(body, { status: 200, headers: { "content-type": "application/json; charset=utf-8" } });

/** Runs `read`, expects one ApprovalError line ending in "nothing was recorded" that does not show `token`; returns it. */
export async function refusalOf(read: () => Promise<unknown>, token: string): Promise<string> {
  try {
    await read();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(ApprovalError);
    const message = (e as Error).message;
    expect(message.split("\n")).to.have.length(1);
    expect(message).to.match(/nothing was recorded$/);
    expect(message).not.to.contain(token);
    return message;
  }
  return expect.fail("expected an ApprovalError");
}
