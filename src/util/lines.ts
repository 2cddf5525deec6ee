/**
 * Lines of a byte stream (NDJSON from the node's API, a child process's output), decoded as UTF-8 across
 * chunk boundaries. A last line without its newline is dropped: it is what a writer cut off mid-line
 * left, and half a JSON object is no event.
 */
export async function* lines(stream: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
}
