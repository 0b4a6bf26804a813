/**
 * dragonfly-cdc command line entry point.
 */
function main(argv: string[]): number {
  const command = argv[0];
  if (command === '--version') {
    console.log(require('../../package.json').version);
    return 0;
  }
  console.error(`unknown command ${command ?? '(none)'}`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
