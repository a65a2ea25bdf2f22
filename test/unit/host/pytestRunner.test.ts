import { expect } from "chai";
import { pytestRunner } from "../../../driver/host/pytestUnitTests.js";

describe("pytest runner (the test step's 'runner' reuse input)", () => {
  it("is the command line when no variable that changes what pytest runs is set", () => {
    expect(pytestRunner({ HOME: "/home/x", PATH: "/usr/bin" })).to.equal("python -m pytest tests (in ml/)");
  });

  for (const name of ["PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTHONPATH", "PYTHONHASHSEED", "PYTHONWARNINGS"]) {
    it(`changes with ${name}, naming it but never showing its value`, () => {
      const a = pytestRunner({ [name]: "-k secret-value-1" });
      const b = pytestRunner({ [name]: "-k secret-value-2" });
      expect(a).to.match(new RegExp(`; ${name} sha256 [0-9a-f]{12}$`));
      expect(a).to.not.equal(b);
      expect(a + b).to.not.match(/secret-value/);
    });
  }
});
