import { Writable } from 'node:stream';

/** A writable that keeps what it was given, for asserting what a user would see. */
export function sink(columns?: number) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { columns?: number };
  if (columns !== undefined) stream.columns = columns;
  return { stream, text: () => chunks.join('') };
}
