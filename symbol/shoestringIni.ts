/** `shoestring.ini`, the one file of a network package that describes the network itself. */
import { PropertiesDocument, PropertiesError } from './properties.js';
import { NetworkPackageError } from './packageError.js';

export interface ShoestringNetwork {
  readonly name: string;
  readonly identifier: number;
  /** Unix seconds of the network's epoch (nemesis time). */
  readonly epochAdjustment: number;
  readonly generationHashSeed: string;
}

export interface ShoestringIni {
  readonly network: ShoestringNetwork;
  readonly images: { readonly client: string; readonly rest: string; readonly mongo: string };
  readonly services: { readonly nodewatch?: string };
  /** The whole file, for sections this module does not interpret (transaction, imports, node). */
  readonly document: PropertiesDocument;
}

export function parseShoestringIni(text: string, source = 'shoestring.ini'): ShoestringIni {
  let document: PropertiesDocument;
  try {
    document = PropertiesDocument.parse(text, source);
  } catch (error) {
    if (error instanceof PropertiesError) throw new NetworkPackageError('InvalidShoestringIni', error.message);
    throw error;
  }
  const required = (section: string, key: string): string => {
    const value = document.get(section, key);
    if (value === undefined || value === '') {
      throw new NetworkPackageError('InvalidShoestringIni', `${source}: [${section}] ${key} is missing or empty`);
    }
    return value;
  };
  const integer = (section: string, key: string, max: number): number => {
    const text = required(section, key);
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value > max) {
      throw new NetworkPackageError(
        'InvalidShoestringIni',
        `${source}: [${section}] ${key} = ${text} is not an integer in 0..${max}`,
      );
    }
    return value;
  };

  const generationHashSeed = required('network', 'generationHashSeed');
  if (!/^[0-9A-Fa-f]{64}$/.test(generationHashSeed)) {
    throw new NetworkPackageError(
      'InvalidShoestringIni',
      `${source}: [network] generationHashSeed is not 64 hex digits`,
    );
  }
  const nodewatch = document.get('services', 'nodewatch');
  return {
    network: {
      name: required('network', 'name'),
      identifier: integer('network', 'identifier', 255),
      epochAdjustment: integer('network', 'epochAdjustment', Number.MAX_SAFE_INTEGER),
      generationHashSeed: generationHashSeed.toUpperCase(),
    },
    images: {
      client: required('images', 'client'),
      rest: required('images', 'rest'),
      mongo: required('images', 'mongo'),
    },
    services: nodewatch ? { nodewatch } : {},
    document,
  };
}
