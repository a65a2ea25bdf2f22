import { expect } from "chai";
import { parseCondaEnv, pipRequirementsText } from "../../../driver/source/condaEnv.js";

describe("conda.yml to pip requirements", () => {
  it("takes the python version and the pip list, in file order", () => {
    const env = parseCondaEnv("dependencies:\n  - python=3.11\n  - pip\n  - pip:\n      - mlflow==3.17.2\n      - pytest==9.2.0\n");
    expect(env).to.deep.equal({ python: "3.11", requirements: ["mlflow==3.17.2", "pytest==9.2.0"] });
    expect(pipRequirementsText(env)).to.equal("# generated from ml/conda.yml by mlops; do not edit\nmlflow==3.17.2\npytest==9.2.0\n");
  });

  it("reads python=3.11.7 and python==3.11 as 3.11", () => {
    expect(parseCondaEnv("dependencies: [python=3.11.7]").python).to.equal("3.11");
    expect(parseCondaEnv("dependencies: [python==3.11]").python).to.equal("3.11");
  });

  it("translates conda package specs to pip specs (conda '=' is a prefix match)", () => {
    const env = parseCondaEnv("dependencies: [python=3.11, numpy=1.26, scipy>=1.10, pandas, pip=24.0]");
    expect(env.requirements).to.deep.equal(["numpy==1.26.*", "scipy>=1.10", "pandas"]);
  });

  it("refuses a conda.yml without a pinned python, naming the file", () => {
    expect(() => parseCondaEnv("dependencies: [pip]", "ml/conda.yml")).to.throw(/ml\/conda\.yml: no python=<major\.minor>/);
    expect(() => parseCondaEnv("dependencies: [python]", "ml/conda.yml")).to.throw(/must pin a version/);
  });

  it("refuses malformed dependency lists with one line", () => {
    expect(() => parseCondaEnv("name: x")).to.throw(/'dependencies' must be a list/);
    expect(() => parseCondaEnv("dependencies: [python=3.11, {pip: oops}]")).to.throw(/'pip' must be a list/);
  });
});
