// Bad input at the client edge: a clear ConfigurationError naming the
// option when the client is constructed, not a failed request later.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigurationError, Quasm, QuasmError } from "../dist/esm/index.js";

function refused(options, field, pattern) {
  assert.throws(
    () => new Quasm(options),
    (e) => {
      assert.ok(e instanceof ConfigurationError, `a ConfigurationError, got ${e}`);
      assert.ok(e instanceof QuasmError);
      assert.equal(e.field, field, e.message);
      assert.equal(e.code, "invalid_configuration");
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test("a missing url is refused at construction", () => {
  refused({ token: "t" }, "url", /url is required/);
  refused({ url: "", token: "t" }, "url", /url is required/);
  refused(undefined, "options", /options must be an object/);
});

test("a malformed url is refused at construction", () => {
  refused({ url: "localhost:8080", token: "t" }, "url", /must use http or https/);
  refused({ url: "not a url", token: "t" }, "url", /"not a url" is not a valid absolute URL/);
  refused({ url: "ftp://example.com", token: "t" }, "url", /http or https/);
  refused({ url: "http://example.com/?tenant=a", token: "t" }, "url", /query or fragment/);
  refused({ url: "http://user:pw@example.com", token: "t" }, "url", /credentials/);
  refused({ url: 8080, token: "t" }, "url", /must be a string/);
});

test("no credential, or both, is refused at construction", () => {
  refused({ url: "http://127.0.0.1:8080" }, "token", /pass token \(a JWT\) or apiKey/);
  refused({ url: "http://127.0.0.1:8080", token: "  " }, "token", /token is empty/);
  refused({ url: "http://127.0.0.1:8080", apiKey: "qk_1\nX-Evil: 1" }, "apiKey", /not allowed in a header/);
  refused({ url: "http://127.0.0.1:8080", token: "a", apiKey: "qk_b" }, "apiKey", /not both/);
});

test("bad numbers and fetch are refused at construction", () => {
  refused({ url: "http://h", token: "t", timeoutMs: 0 }, "timeoutMs", />= 1/);
  refused({ url: "http://h", token: "t", maxRetries: 1.5 }, "maxRetries", /an integer/);
  refused({ url: "http://h", token: "t", maxRetries: -1 }, "maxRetries", />= 0/);
  refused({ url: "http://h", token: "t", fetch: 42 }, "fetch", /no fetch available/);
  refused({ url: "http://h", token: "t", headers: { "x-a": 1 } }, "headers.x-a", /one-line string/);
});

test("a good configuration is normalised", () => {
  assert.equal(new Quasm({ url: "https://quasm.example.com/", token: "t" }).url, "https://quasm.example.com");
  assert.equal(new Quasm({ url: "http://127.0.0.1:8080/api/v1", apiKey: "qk_x" }).url, "http://127.0.0.1:8080");
  assert.equal(new Quasm({ url: "http://h/quasm/", token: "t" }).url, "http://h/quasm");
});
