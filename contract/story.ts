// A CAF integrator's story, written against the client generated from
// openapi/openapi.json alone: log in with client credentials, refer a
// person, read the receipt, read the feed. It must compile with
// `tsc --strict`; `npm run story` plays it against a running server
// (PARCOURS_URL, PARCOURS_CLIENT_ID, PARCOURS_CLIENT_SECRET).
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type Receipt = components["schemas"]["ReferralReceipt"];

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

async function main(): Promise<void> {
  const baseUrl = required("PARCOURS_URL");
  const api = createClient<paths>({ baseUrl });

  // A form, as RFC 6749 and the document have it.
  const login = await api.POST("/v1/auth/token", {
    body: {
      grant_type: "client_credentials",
      client_id: required("PARCOURS_CLIENT_ID"),
      client_secret: required("PARCOURS_CLIENT_SECRET"),
    },
    bodySerializer: (body) =>
      new URLSearchParams(
        Object.entries(body).filter((e): e is [string, string] => typeof e[1] === "string"),
      ).toString(),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (!login.data) {
    throw new Error(`login refused: ${JSON.stringify(login.error)}`);
  }
  const headers = { Authorization: `Bearer ${login.data.access_token}` };

  const referral = await api.POST("/v1/referrals", {
    headers: { ...headers, "Idempotency-Key": crypto.randomUUID() },
    body: {
      family_name: "Martin",
      given_names: "Léa",
      birth_date: "2009-05-14",
      commune_insee: "05061",
      domain: "childhood",
      reason: "Signalement : rupture de prise en charge",
      partner_number: "1234567",
    },
  });
  if (!referral.data) {
    throw new Error(`referral refused: ${JSON.stringify(referral.error)}`);
  }
  const receipt: Receipt = referral.data;
  if (receipt.status !== "pending") {
    throw new Error(`a new referral is pending, not ${receipt.status}`);
  }

  const again = await api.GET("/v1/referrals/{id}", {
    headers,
    params: { path: { id: receipt.id } },
  });
  if (again.data?.id !== receipt.id) {
    throw new Error("the receipt reads back");
  }

  const feed = await api.GET("/v1/feed", { headers, params: { query: { limit: 10 } } });
  if (!feed.data) {
    throw new Error(`feed refused: ${JSON.stringify(feed.error)}`);
  }
  const problem = await api.GET("/v1/referrals/{id}", {
    headers,
    params: { path: { id: "00000000-0000-0000-0000-000000000000" } },
  });
  if (problem.error?.type !== "urn:parcours:problem:not-found") {
    throw new Error(`an unknown receipt is a typed problem: ${JSON.stringify(problem.error)}`);
  }
  console.log(`referred ${receipt.id}; feed holds ${feed.data.items.length} event(s)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
