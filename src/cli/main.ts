#!/usr/bin/env node
// The imgcopy command. Heavy modules (the copy engine, transports) are imported only by the
// commands that need them, so that `imgcopy --version` and `imgcopy transports` start fast.
import { hideBin } from "yargs/helpers";
import { runCli } from "./run-cli.js";

process.exitCode = await runCli(hideBin(process.argv));
