// WWW-Authenticate (RFC 9110 §11.6.1): several challenges in one header or several headers, each a
// scheme with name=value parameters whose quoted values may hold commas and escaped quotes.

export interface AuthChallenge {
  /** Lower case: "bearer", "basic". */
  scheme: string;
  /** Parameter names in lower case. */
  params: Record<string, string>;
}

/** Every challenge in the header value(s); unparseable trailing text is ignored. */
export function parseWwwAuthenticate(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const values = typeof header === "string" ? [header] : header;
  return values.flatMap((v) => new ChallengeParser(v).all());
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

class ChallengeParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  all(): AuthChallenge[] {
    const out: AuthChallenge[] = [];
    for (;;) {
      this.skip(/^[\s,]*/);
      const scheme = this.take(TOKEN);
      if (scheme === undefined) return out;
      const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
      out.push(challenge);
      this.skip(/^[ \t]*/);
      // token68 form (Basic dXNlcg==): kept under the empty name.
      const token68 = /^[A-Za-z0-9\-._~+/]+=*(?=\s*(,|$))/.exec(this.rest());
      if (token68 && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\s*=[^=]/.test(this.rest())) {
        challenge.params[""] = token68[0];
        this.pos += token68[0].length;
        continue;
      }
      this.params(challenge);
    }
  }

  /** name=value pairs until the next thing that is a new scheme (a token not followed by "="). */
  private params(challenge: AuthChallenge): void {
    for (;;) {
      const save = this.pos;
      this.skip(/^[\s,]*/);
      const name = this.take(TOKEN);
      if (name === undefined) return;
      this.skip(/^[ \t]*/);
      if (this.text[this.pos] !== "=") {
        this.pos = save; // the start of the next challenge
        return;
      }
      this.pos++;
      this.skip(/^[ \t]*/);
      const value = this.text[this.pos] === '"' ? this.quoted() : (this.take(TOKEN) ?? "");
      challenge.params[name.toLowerCase()] = value;
    }
  }

  private quoted(): string {
    let out = "";
    this.pos++; // opening quote
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++]!;
      if (c === '"') return out;
      if (c === "\\" && this.pos < this.text.length) out += this.text[this.pos++]!;
      else out += c;
    }
    return out; // unterminated: what there was
  }

  private rest(): string {
    return this.text.slice(this.pos);
  }

  private skip(re: RegExp): void {
    const m = re.exec(this.rest());
    if (m) this.pos += m[0].length;
  }

  private take(re: RegExp): string | undefined {
    const m = re.exec(this.rest());
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
}
