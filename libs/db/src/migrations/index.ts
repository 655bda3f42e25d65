import { Foundation1764300000000 } from './1764300000000-foundation';
import { DuplicateHintIndex1764310000000 } from './1764310000000-duplicate-hint-index';
import { Notifications1764320000000 } from './1764320000000-notifications';
import { Fulfilment1764330000000 } from './1764330000000-fulfilment';
import { CandidateIndexes1764340000000 } from './1764340000000-candidate-indexes';
import { MillisecondKeysets1764350000000 } from './1764350000000-millisecond-keysets';
import { Coverage1764360000000 } from './1764360000000-coverage';

/** Listed explicitly (not globbed) so the app, the CLI and the tests run the same migrations. */
export const MIGRATIONS = [Foundation1764300000000, DuplicateHintIndex1764310000000, Notifications1764320000000, Fulfilment1764330000000, CandidateIndexes1764340000000, MillisecondKeysets1764350000000, Coverage1764360000000];
