// Runs one entry point of the CDK Provider framework (the Lambda code a synthesized stack deploys, unchanged)
// with its AWS calls answered by the Python test: each call is one JSON line on stdout, answered by one JSON
// line on stdin. The first stdin line is the event.
//
//   node provider_framework_harness.js <framework code directory> <onEvent|isComplete|onTimeout>
//
// The framework reaches AWS in three ways, each answered by the test: Lambda Invoke of the user's handler
// (@aws-sdk/client-lambda), StartExecution of the waiter (@aws-sdk/client-sfn), and the HTTPS PUT of the
// CloudFormation response (https.request). Everything else is the framework's own code.
"use strict";

const Module = require("module");
const path = require("path");
const readline = require("readline");
const https = require("https");

const [, , frameworkDir, entryPoint] = process.argv;

// The framework logs with console.log; stdout carries the protocol, so its log goes to stderr.
console.log = (...args) => process.stderr.write(`${args.join(" ")}\n`);

const answers = [];
const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => answers.shift()(JSON.parse(line)));

function ask(message) {
  return new Promise((resolve) => {
    answers.push(resolve);
    process.stdout.write(`${JSON.stringify(message)}\n`);
  });
}

const awsSdk = {
  "@aws-sdk/client-lambda": {
    Lambda: class {
      async invoke(request) {
        const answer = await ask({ call: "invoke", functionName: request.FunctionName, payload: request.Payload });
        return { StatusCode: 200, FunctionError: answer.functionError, Payload: Buffer.from(answer.payload) };
      }
    },
    waitUntilFunctionActiveV2: async () => ({}),
  },
  "@aws-sdk/client-sfn": {
    SFN: class {
      async startExecution(request) {
        await ask({ call: "startExecution", stateMachineArn: request.stateMachineArn, input: request.input });
        return {};
      }
    },
  },
};
const load = Module._load;
Module._load = function loadWithFakeSdk(request, ...rest) {
  return awsSdk[request] ?? load.call(this, request, ...rest);
};

https.request = (options, onResponse) => {
  const chunks = [];
  const listeners = {};
  return {
    on(event, listener) { listeners[event] = listener; return this; },
    write(chunk) { chunks.push(chunk); },
    end() {
      ask({ call: "respond", hostname: options.hostname, path: options.path, body: chunks.join("") })
        .then((answer) => onResponse({ statusCode: answer.statusCode, resume() {} }));
    },
  };
};

// The framework's retries of a failed response PUT sleep up to 16 s each: time passes at once here.
const realSetTimeout = setTimeout;
global.setTimeout = (callback, _ms, ...args) => realSetTimeout(callback, 0, ...args);

const framework = require(path.join(frameworkDir, "framework.js"));

answers.push((event) => {
  framework[entryPoint](event).then(
    () => process.stdout.write(`${JSON.stringify({ call: "done" })}\n`),
    (error) => process.stdout.write(`${JSON.stringify({ call: "done", error: error.message })}\n`),
  ).finally(() => lines.close());
});
