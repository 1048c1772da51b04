import { createPublicKey, type KeyObject } from "node:crypto";
import { createSocket } from "node:dgram";
import { createServer, type Socket } from "node:net";
import dnsPacket from "dns-packet";

/** The record types the fake serves: what SPF, DKIM and DMARC checks ask for. */
export type FakeDnsRecordType = "TXT" | "A" | "AAAA" | "MX";

export interface FakeDnsQuery {
  name: string;
  type: string;
  transport: "udp" | "tcp";
}

/**
 * An authoritative DNS server on 127.0.0.1 speaking the real wire protocol over UDP and TCP on one
 * port, for code that resolves through `dns.promises.Resolver#setServers`. Names it holds no record
 * for answer NXDOMAIN; a name with records of other types answers NODATA, as a real zone does.
 */
export interface FakeDns {
  /** `127.0.0.1:<port>`, the form `DNS_SERVERS` and `Resolver#setServers` take. */
  server: string;
  port: number;
  /** Replaces the records of one name and type (TXT values longer than 255 bytes are split into strings). */
  set(name: string, type: FakeDnsRecordType, values: string[]): void;
  /** Adds one TXT record. */
  addTxt(name: string, value: string): void;
  remove(name: string, type?: FakeDnsRecordType): void;
  /** Every question asked, oldest first. */
  readonly queries: FakeDnsQuery[];
  close(): Promise<void>;
}

const MAX_UDP_PAYLOAD = 512;
// The response code is the low four bits of the header flags (RFC 1035 4.1.1).
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;

const normalize = (name: string) => name.replace(/\.$/, "").toLowerCase();

/** `v=DKIM1; k=rsa; p=…`: the TXT record that publishes a DKIM public key (selector._domainkey.domain). */
export function dkimTxtRecord(publicKey: KeyObject | string): string {
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  const der = key.export({ type: "spki", format: "der" });
  return `v=DKIM1; k=rsa; p=${der.toString("base64")}`;
}

function txtStrings(value: string): Buffer[] {
  const bytes = Buffer.from(value, "utf8");
  const strings: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 255) {
    strings.push(bytes.subarray(offset, offset + 255));
  }
  return strings.length > 0 ? strings : [Buffer.alloc(0)];
}

export async function startFakeDns(): Promise<FakeDns> {
  const zone = new Map<string, Map<FakeDnsRecordType, string[]>>();
  const queries: FakeDnsQuery[] = [];

  function answer(query: dnsPacket.Packet, transport: "udp" | "tcp"): Buffer {
    const question = query.questions?.[0];
    const response: dnsPacket.Packet = {
      type: "response",
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED),
      questions: question ? [question] : [],
      answers: [],
    };
    if (!question) {
      return dnsPacket.encode({ ...response, flags: (response.flags ?? 0) | RCODE_FORMERR });
    }
    queries.push({ name: question.name, type: question.type, transport });
    const records = zone.get(normalize(question.name));
    if (!records) {
      return dnsPacket.encode({ ...response, flags: (response.flags ?? 0) | RCODE_NXDOMAIN });
    }
    const type = question.type as FakeDnsRecordType;
    for (const value of records.get(type) ?? []) {
      const base = { name: question.name, ttl: 60, class: "IN" as const };
      if (type === "TXT") {
        response.answers?.push({ ...base, type, data: txtStrings(value) });
      } else if (type === "MX") {
        const [preference, exchange] = value.split(/\s+/);
        response.answers?.push({
          ...base,
          type,
          data: { preference: Number(preference), exchange: exchange ?? "" },
        });
      } else {
        response.answers?.push({ ...base, type, data: value });
      }
    }
    const encoded = dnsPacket.encode(response);
    const advertised = query.additionals?.find((record) => record.type === "OPT") as
      | { udpPayloadSize?: number }
      | undefined;
    const limit = Math.max(MAX_UDP_PAYLOAD, advertised?.udpPayloadSize ?? 0);
    if (transport === "udp" && encoded.length > limit) {
      // Too big for the datagram: set TC so the resolver asks again over TCP, as RFC 1035 says.
      return dnsPacket.encode({
        ...response,
        flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
        answers: [],
      });
    }
    return encoded;
  }

  const tcp = createServer((socket: Socket) => {
    let buffered = Buffer.alloc(0);
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) {
          break;
        }
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        try {
          const reply = answer(dnsPacket.decode(message), "tcp");
          const framed = Buffer.alloc(2 + reply.length);
          framed.writeUInt16BE(reply.length, 0);
          reply.copy(framed, 2);
          socket.write(framed);
        } catch {
          socket.destroy();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(0, "127.0.0.1", () => resolve());
  });
  const address = tcp.address();
  const port = typeof address === "object" && address ? address.port : 0;

  const udp = createSocket("udp4");
  udp.on("message", (message, remote) => {
    try {
      udp.send(answer(dnsPacket.decode(message), "udp"), remote.port, remote.address);
    } catch {
      // A datagram that is not DNS gets no answer, like a real server.
    }
  });
  await new Promise<void>((resolve, reject) => {
    udp.once("error", reject);
    udp.bind(port, "127.0.0.1", () => resolve());
  });

  function recordsOf(name: string) {
    let records = zone.get(normalize(name));
    if (!records) {
      records = new Map();
      zone.set(normalize(name), records);
    }
    return records;
  }

  return {
    server: `127.0.0.1:${port}`,
    port,
    queries,
    set(name, type, values) {
      recordsOf(name).set(type, [...values]);
    },
    addTxt(name, value) {
      const records = recordsOf(name);
      records.set("TXT", [...(records.get("TXT") ?? []), value]);
    },
    remove(name, type) {
      if (type) {
        zone.get(normalize(name))?.delete(type);
      } else {
        zone.delete(normalize(name));
      }
    },
    async close() {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
