/** Upper-cased command name plus subcommand (`REPLCONF CAPA`, `DFLY FLOW`, `PING`): what exchanges are matched by. */
export function commandKey(args: Buffer[]): string {
  const name = (args[0]?.toString('latin1') ?? '').toUpperCase();
  const withSubcommand = name === 'REPLCONF' || name === 'DFLY' || name === 'CLIENT' || name === 'CONFIG';
  return withSubcommand && args[1] ? `${name} ${args[1].toString('latin1').toUpperCase()}` : name;
}
