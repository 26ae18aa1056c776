//! `env.KV` is stored in Postgres: shared by every node, scoped by tenant,
//! with expiry and prefix listing.

mod common;

use common::{Env, Server};
use serde_json::{json, Value};

const KV: &str = r#"export default {
  async run(input, env) {
    switch (input.op) {
      case "put": await env.KV.put(input.key, input.value, input.ttl ? { expirationTtl: input.ttl } : undefined); return "ok";
      case "get": return await env.KV.get(input.key);
      case "delete": await env.KV.delete(input.key); return "deleted";
      case "list": return await env.KV.list({ prefix: input.prefix, limit: input.limit, cursor: input.cursor });
    }
  }
};"#;

async fn kv(s: &Server, token: &str, input: Value) -> Value {
    let r = s.ok("POST", "/functions/kv/invoke", token, Some(json!({ "input": input })), 200).await;
    assert_eq!(r["status"], "ok", "{r}");
    r["output"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_is_shared_by_nodes_scoped_by_tenant_and_expires() {
    let env = Env::new().await;
    let a = Server::start(&env, &[], &[]).await;
    let b = Server::start(&env, &[], &[]).await;
    let t = a.token("acme", &["developer"]);
    let other = a.token("zeta", &["developer"]);
    a.create_function(&t, "kv", KV).await;
    a.create_function(&other, "kv", KV).await;

    assert_eq!(kv(&a, &t, json!({"op": "put", "key": "user:1", "value": "ann"})).await, "ok");
    // Another node reads what the first wrote.
    assert_eq!(kv(&b, &t, json!({"op": "get", "key": "user:1"})).await, "ann");
    // Another tenant does not.
    assert_eq!(kv(&b, &other, json!({"op": "get", "key": "user:1"})).await, Value::Null);

    for (k, v) in [("user:2", "bob"), ("user:3", "cy"), ("order:1", "x"), ("user_x", "literal underscore")] {
        kv(&b, &t, json!({"op": "put", "key": k, "value": v})).await;
    }
    let page = kv(&a, &t, json!({"op": "list", "prefix": "user:", "limit": 2})).await;
    let names = |p: &Value| -> Vec<String> {
        p["keys"].as_array().unwrap().iter().map(|k| k["name"].as_str().or(k.as_str()).unwrap().to_owned()).collect()
    };
    assert_eq!(names(&page), ["user:1", "user:2"], "{page}");
    assert_eq!(page["list_complete"], false, "{page}");
    let rest = kv(&a, &t, json!({"op": "list", "prefix": "user:", "limit": 2, "cursor": page["cursor"]})).await;
    assert_eq!(names(&rest), ["user:3"], "{rest}");
    // '_' in a prefix is literal, not a LIKE wildcard.
    assert_eq!(names(&kv(&a, &t, json!({"op": "list", "prefix": "user_"})).await), ["user_x"]);

    kv(&a, &t, json!({"op": "put", "key": "temp", "value": "soon gone", "ttl": 60})).await;
    assert_eq!(kv(&b, &t, json!({"op": "get", "key": "temp"})).await, "soon gone");
    env.db()
        .await
        .execute("UPDATE kv SET expires_at = now() - interval '1 second' WHERE key = 'temp'", &[])
        .await
        .unwrap();
    assert_eq!(kv(&b, &t, json!({"op": "get", "key": "temp"})).await, Value::Null, "expired");

    assert_eq!(kv(&b, &t, json!({"op": "delete", "key": "user:1"})).await, "deleted");
    assert_eq!(kv(&a, &t, json!({"op": "get", "key": "user:1"})).await, Value::Null);
}
