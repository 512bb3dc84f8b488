// Throwaway X.509 material for the TLS tests, made with the openssl command line (node:crypto cannot
// issue certificates): CAs, node certificates (SAN 127.0.0.1/localhost, server + client auth), client
// certificates, an expired one. EC P-256 keys: generating them takes milliseconds.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Ca {
  name: string;
  crt: string;
  key: string;
}

export interface Issued {
  crt: string;
  key: string;
}

export interface IssueOptions {
  cn: string;
  /** subjectAltName entries, e.g. ['IP:127.0.0.1', 'DNS:localhost']. */
  sans?: string[];
  /** Validity in days; negative = already expired (notAfter before now). Default 30. */
  days?: number;
  /** Extended key usage (default serverAuth,clientAuth). */
  eku?: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export class CertDir {
  readonly dir: string;
  private serial = 1;

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'kvs-certs-'));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  ca(name: string): Ca {
    const crt = this.path(`${name}.crt`);
    const key = this.path(`${name}.key`);
    openssl(
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-days', '3650', '-subj', `/CN=${name}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      this.dir,
    );
    return { name, crt, key };
  }

  /** Issues `<file>.crt` / `<file>.key` signed by `ca`. */
  issue(ca: Ca, file: string, o: IssueOptions): Issued {
    const crt = this.path(`${file}.crt`);
    const key = this.path(`${file}.key`);
    const csr = this.path(`${file}.csr`);
    const ext = this.path(`${file}.ext`);
    const lines = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', `extendedKeyUsage=${o.eku ?? 'serverAuth,clientAuth'}`];
    if (o.sans && o.sans.length > 0) lines.push(`subjectAltName=${o.sans.join(',')}`);
    writeFileSync(ext, lines.join('\n') + '\n');
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${o.cn}`], this.dir);
    openssl(['x509', '-req', '-in', csr, '-CA', ca.crt, '-CAkey', ca.key, '-set_serial', String(this.serial++ + Math.floor(Math.random() * 1e9)), '-days', String(o.days ?? 30), '-extfile', ext, '-out', crt], this.dir);
    return { crt, key };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The usual set: a CA, a node certificate, an admin and a data client, another CA's client, an expired client. */
export interface TestPki {
  certs: CertDir;
  ca: Ca;
  node: Issued;
  admin: Issued;
  client: Issued;
  otherCa: Ca;
  foreign: Issued;
  expired: Issued;
}

export function makeTestPki(dir?: string): TestPki {
  const certs = new CertDir(dir);
  const ca = certs.ca('ca');
  const otherCa = certs.ca('other-ca');
  return {
    certs,
    ca,
    otherCa,
    node: certs.issue(ca, 'node', { cn: 'kvs-node', sans: ['IP:127.0.0.1', 'DNS:localhost'] }),
    admin: certs.issue(ca, 'admin', { cn: 'kvs-admin', eku: 'clientAuth' }),
    client: certs.issue(ca, 'client', { cn: 'kvs-client', eku: 'clientAuth' }),
    // Same CN as the admin: only the signature differs, so a refusal proves the CA check.
    foreign: certs.issue(otherCa, 'foreign', { cn: 'kvs-admin', sans: ['IP:127.0.0.1'] }),
    expired: certs.issue(ca, 'expired', { cn: 'kvs-admin', days: -1 }),
  };
}
