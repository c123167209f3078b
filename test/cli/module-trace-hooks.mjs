// Module loader hook: appends each loaded module's URL to $IMGCOPY_TRACE_FILE.
import { appendFileSync } from "node:fs";
import process from "node:process";

export async function load(url, context, nextLoad) {
  const file = process.env.IMGCOPY_TRACE_FILE;
  if (file) appendFileSync(file, `${url}\n`);
  return nextLoad(url, context);
}
