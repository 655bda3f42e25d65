import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '@kepu/config';
import { type Actor, BusinessRuleError, ConflictError, normalizeMainlandMobile, NotFoundError, ValidationError } from '@kepu/core';
import { RateLimitService } from '@kepu/http';
import { OutboxService } from '@kepu/notifications';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthService } from './auth.service';
import type { LoginResultView } from './login.dto';
import { hashPassword } from './password';
import { type PhoneCodePurpose, PhoneCodesRepository } from './phone-codes.repository';
import type { ChangePhoneDto, ContactDto, PhoneCodeRequestDto, PhoneCodeSentView, RegisterDto } from './signup.dto';
import { toUserView, type UserView } from './user.view';
import { UsersRepository } from './users.repository';

/** Codes a phone may be sent (DESIGN.md §10): 1 a minute, 5 an hour. */
const PHONE_LIMITS = [
  { name: 'phone-code.phone.minute', max: 1, windowSeconds: 60 },
  { name: 'phone-code.phone.hour', max: 5, windowSeconds: 3600 },
];
/** Sign-up attempts per client address an hour: API.md asks that at least 30 pass. */
export const REGISTER_ATTEMPTS_PER_ADDRESS_PER_HOUR = 60;

const invalidCode = () => new BusinessRuleError('INVALID_PHONE_CODE', 'The code is wrong, expired or already used. Request a new one.');

/**
 * Residents on their own: a code by SMS, an account with it, and their own
 * contact addresses. A code is 6 random digits, kept only as an HMAC with a
 * server key; it works once, for PHONE_CODE_TTL_SECONDS, and the fifth wrong
 * try spends it. Sending answers the same whether or not the phone has an
 * account: a code always goes out, and only someone holding it learns that
 * the number is taken (409 PHONE_TAKEN at registration).
 */
@Injectable()
export class SignupService {
  private readonly key: Buffer;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly codes: PhoneCodesRepository,
    private readonly users: UsersRepository,
    private readonly auth: AuthService,
    private readonly outbox: OutboxService,
    private readonly rateLimits: RateLimitService,
    private readonly config: AppConfig,
  ) {
    this.key = createHmac('sha256', config.jwtSecret).update('kepu phone codes').digest();
  }

  async sendCode(dto: PhoneCodeRequestDto, ip: string | null): Promise<PhoneCodeSentView> {
    const phone = this.phoneOf(dto.phone);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const ttl = this.config.phoneCodeTtlSeconds;
    await this.dataSource.transaction(async (manager) => {
      // In the transaction: a request refused by the phone's limit does not use up the address's.
      await this.rateLimits.consume(ip ?? 'unknown', [{ name: 'phone-code.address', max: this.config.phoneCodesPerAddressPerHour, windowSeconds: 3600 }], {
        manager,
        detail: 'Too many codes were requested from this address; try again later.',
      });
      await this.rateLimits.consume(phone, PHONE_LIMITS, { manager, detail: 'A code was sent to this phone a moment ago; wait before asking for another.' });
      await this.codes.issue(manager, phone, dto.purpose, this.hash(phone, dto.purpose, code), ttl);
      await this.outbox.append(manager, [{ type: 'auth.phone_code', orderId: null, payload: { phone, code, minutes: String(Math.max(1, Math.ceil(ttl / 60))) } }]);
    });
    return { expiresIn: ttl };
  }

  /**
   * Everything but the code is checked first, and the code is spent in the
   * transaction that creates the account: a sign-up refused for another reason
   * leaves the code usable. A wrong code's try is committed on its own.
   */
  async register(dto: RegisterDto, ip: string | null): Promise<LoginResultView> {
    await this.rateLimits.consume(ip ?? 'unknown', [{ name: 'register.address', max: REGISTER_ATTEMPTS_PER_ADDRESS_PER_HOUR, windowSeconds: 3600 }], {
      detail: 'Too many sign-up attempts from this address; try again later.',
    });
    const phone = this.phoneOf(dto.phone);
    if (!(await this.users.communityExists(dto.communityCode)))
      throw new BusinessRuleError('UNKNOWN_COMMUNITY', `No community has the code ${dto.communityCode}.`);
    const passwordHash = await hashPassword(dto.password);
    const username = dto.username ?? phone;
    const user = await this.dataSource.transaction(async (manager) => {
      const check = await this.codes.check(manager, phone, 'register', (stored) => this.matches(stored, phone, 'register', dto.code));
      if (check !== 'ok') return null;
      await this.users.lockPhone(manager, phone);
      if (await this.users.phoneHolder(manager, phone)) throw new ConflictError('PHONE_TAKEN', 'An account already has this phone number; sign in instead.');
      const created = await this.users.insertIn(
        manager,
        { username, passwordHash, displayName: dto.displayName.trim(), role: 'resident', phone, communityCode: dto.communityCode, departmentId: null, organizationId: null, districtCode: null },
        { actor: null, ip },
        'user.registered',
      );
      if (!created) throw new ConflictError('USERNAME_TAKEN', `The username ${username} is taken.`);
      await this.codes.spend(manager, phone, 'register');
      return created;
    });
    if (!user) throw invalidCode();
    return this.auth.startSession(user);
  }

  async changePhone(actor: Actor, dto: ChangePhoneDto, ip: string | null): Promise<UserView> {
    const phone = this.phoneOf(dto.phone);
    const outcome = await this.dataSource.transaction(async (manager) => {
      const check = await this.codes.check(manager, phone, 'change_phone', (stored) => this.matches(stored, phone, 'change_phone', dto.code));
      if (check !== 'ok') return 'invalid' as const;
      await this.users.lockPhone(manager, phone);
      const holder = await this.users.phoneHolder(manager, phone);
      if (holder && holder !== actor.userId) throw new ConflictError('PHONE_TAKEN', 'Another account has this phone number.');
      const updated = await this.users.setPhone(manager, actor.userId, phone);
      if (!updated) throw new NotFoundError('Your account no longer exists.');
      await this.users.recordPhoneChange(manager, updated, ip);
      await this.codes.spend(manager, phone, 'change_phone');
      return updated;
    });
    if (outcome === 'invalid') throw invalidCode();
    return toUserView(outcome);
  }

  async updateContact(actor: Actor, dto: ContactDto): Promise<UserView> {
    const updated = await this.users.updateContact(actor.userId, { email: dto.email, wechatOpenId: dto.wechatOpenId });
    if (!updated) throw new NotFoundError('Your account no longer exists.');
    return toUserView(updated);
  }

  private phoneOf(input: string): string {
    const phone = normalizeMainlandMobile(input);
    if (!phone) throw new ValidationError('phone must be a mainland mobile number.', [{ field: 'phone', message: 'phone must be a mainland mobile number' }]);
    return phone;
  }

  private hash(phone: string, purpose: PhoneCodePurpose, code: string): string {
    return createHmac('sha256', this.key).update(`${purpose}:${phone}:${code}`).digest('base64');
  }

  private matches(stored: string, phone: string, purpose: PhoneCodePurpose, code: string): boolean {
    const expected = Buffer.from(stored, 'base64');
    const actual = Buffer.from(this.hash(phone, purpose, code), 'base64');
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}
