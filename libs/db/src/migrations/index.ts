import { Foundation1764300000000 } from './1764300000000-foundation';
import { DuplicateHintIndex1764310000000 } from './1764310000000-duplicate-hint-index';
import { Notifications1764320000000 } from './1764320000000-notifications';
import { Fulfilment1764330000000 } from './1764330000000-fulfilment';
import { CandidateIndexes1764340000000 } from './1764340000000-candidate-indexes';
import { MillisecondKeysets1764350000000 } from './1764350000000-millisecond-keysets';
import { Coverage1764360000000 } from './1764360000000-coverage';
import { CandidateStats1764365000000 } from './1764365000000-candidate-stats';
import { Security1764370000000 } from './1764370000000-security';
import { CandidateCache1764375000000 } from './1764375000000-candidate-cache';
import { DirectNotices1764380000000 } from './1764380000000-direct-notices';
import { RateLimits1764381000000 } from './1764381000000-rate-limits';
import { PhoneCodes1764390000000 } from './1764390000000-phone-codes';
import { Volunteering1764391000000 } from './1764391000000-volunteering';
import { Events1764392000000 } from './1764392000000-events';
import { Steering1764393000000 } from './1764393000000-steering';
import { Scorecards1764394000000 } from './1764394000000-scorecards';
import { Broadcasts1764395000000 } from './1764395000000-broadcasts';
import { Hardening1764397000000 } from './1764397000000-hardening';
import { UrgentScorecards1764399500000 } from './1764399500000-urgent-scorecards';
import { VisibleOrders1764399600000 } from './1764399600000-visible-orders';
import { ScorecardEdges1764399700000 } from './1764399700000-scorecard-edges';
import { ScorecardColumns1764399810000 } from './1764399810000-scorecard-columns';
import { ServiceRecordOrderKeys1764399830000 } from './1764399830000-service-record-order-keys';

/** Listed explicitly (not globbed) so the app, the CLI and the tests run the same migrations. */
export const MIGRATIONS = [
  Foundation1764300000000,
  DuplicateHintIndex1764310000000,
  Notifications1764320000000,
  Fulfilment1764330000000,
  CandidateIndexes1764340000000,
  MillisecondKeysets1764350000000,
  Coverage1764360000000,
  CandidateStats1764365000000,
  Security1764370000000,
  CandidateCache1764375000000,
  DirectNotices1764380000000,
  RateLimits1764381000000,
  PhoneCodes1764390000000,
  Volunteering1764391000000,
  Events1764392000000,
  Steering1764393000000,
  Scorecards1764394000000,
  Broadcasts1764395000000,
  Hardening1764397000000,
  UrgentScorecards1764399500000,
  VisibleOrders1764399600000,
  ScorecardEdges1764399700000,
  ScorecardColumns1764399810000,
  ServiceRecordOrderKeys1764399830000,
];
