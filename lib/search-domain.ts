/**
 * Where documents are indexed: a new OpenSearch Service domain with secure defaults, or an existing
 * endpoint. Both present one {@link ISearchTarget} to the indexer, so the rest of the app does not
 * care which.
 */
import { Aws, type RemovalPolicy, SecretValue, type Size, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import { Construct } from 'constructs';
import { acknowledgeNagRule, acknowledgeWildcards } from './nag-acknowledgements';

/** How the indexer authenticates to OpenSearch (its `OPENSEARCH_AUTH`). */
export type SearchAuth = 'sigv4' | 'basic' | 'none';

/** The HTTP actions the indexer needs: `_bulk` (POST), index templates (PUT), health checks (GET). */
export const INDEXING_ACTIONS = ['es:ESHttpPost', 'es:ESHttpPut', 'es:ESHttpGet'] as const;

/** Grants the indexing HTTP actions on every path of the domain (indices are created by date). */
function grantIndexingActions(grantee: iam.IGrantable, domainArn: string): void {
  const paths = `${domainArn}/*`;
  iam.Grant.addToPrincipal({ grantee, actions: [...INDEXING_ACTIONS], resourceArns: [paths] });
  if (Construct.isConstruct(grantee)) {
    acknowledgeWildcards(
      grantee,
      { resources: [paths] },
      'Indices are created per day (<prefix>-<type>-YYYY.MM.DD), so the grant covers the paths of this one domain',
    );
  }
}

/** A search cluster the indexer writes to. */
export interface ISearchTarget {
  /** `https://` URL of the cluster (the indexer's `OPENSEARCH_ENDPOINT`). */
  readonly endpointUrl: string;
  readonly auth: SearchAuth;
  /** The managed domain, when known: its metrics drive the alarms and the kill switch. */
  readonly domain?: opensearch.IDomain;
  /** Free storage per node (MiB) below which indexing must stop. */
  readonly freeStorageAlarmMiB: number;
  /** Extra indexer environment: the basic-auth credentials, as deploy-time secret references. */
  readonly credentialsEnvironment: Readonly<Record<string, string>>;
  /** Lets `grantee` index documents (IAM, and the domain's access policy where this app owns it). */
  grantIndexing(grantee: iam.IGrantable): void;
}

/** Props of {@link SearchDomain}. */
export interface SearchDomainProps {
  /** Fixed so that the domain's access policy can name the domain without a circular reference. */
  readonly domainName: string;
  /** @default opensearch.EngineVersion.OPENSEARCH_2_19 */
  readonly engineVersion?: opensearch.EngineVersion;
  /** @default 'r7g.large.search' */
  readonly instanceType?: string;
  /** Data nodes; more than one spreads them over availability zones. @default 1 */
  readonly instanceCount?: number;
  /** EBS (gp3) volume per data node. */
  readonly volumeSize: Size;
  /**
   * An IAM principal that may administer the domain (dashboards, index templates, deletes).
   * @default - only the indexing principals may call the domain
   */
  readonly adminPrincipalArn?: string;
  /**
   * Enables fine-grained access control with this IAM master user. The indexer role must then be
   * mapped to an OpenSearch role (see the stack output).
   * @default - fine-grained access control disabled; the access policy alone decides
   */
  readonly fineGrainedMasterUserArn?: string;
  /** Free storage per node (MiB) below which indexing stops. @default 20% of the volume */
  readonly freeStorageAlarmMiB?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN (the default of the OpenSearch construct) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Availability zones for `instanceCount` data nodes, which must divide evenly among them; undefined
 * when no zone count fits.
 */
export function zoneCountFor(instanceCount: number): 1 | 2 | 3 | undefined {
  if (instanceCount === 1) return 1;
  if (instanceCount % 3 === 0) return 3;
  if (instanceCount % 2 === 0) return 2;
  return undefined;
}

/** Why {@link zoneCountFor} found no zone count. */
export const UNEVEN_NODES_MESSAGE =
  'data nodes must spread evenly over 2 or 3 availability zones: use 1, an even number, or a multiple of 3';

/**
 * A new OpenSearch Service domain: encryption at rest, node-to-node encryption, HTTPS only with
 * TLS 1.2, slow and application logs, zone awareness when there is more than one node, and an
 * access policy that names only the indexing principals and the admin.
 */
export class SearchDomain extends Construct implements ISearchTarget {
  public readonly domain: opensearch.Domain;
  public readonly endpointUrl: string;
  public readonly auth: SearchAuth = 'sigv4';
  public readonly freeStorageAlarmMiB: number;
  public readonly credentialsEnvironment: Readonly<Record<string, string>> = {};
  /** The domain's resource-based access policy; grows with each {@link grantIndexing}. */
  public readonly accessPolicy: iam.PolicyDocument;
  private readonly domainArn: string;

  constructor(scope: Construct, id: string, props: SearchDomainProps) {
    super(scope, id);
    const instanceCount = props.instanceCount ?? 1;
    const zoneCount = zoneCountFor(instanceCount);
    if (zoneCount === undefined) throw new Error(`${instanceCount} ${UNEVEN_NODES_MESSAGE}`);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.domainArn = Stack.of(this).formatArn({
      service: 'es',
      resource: 'domain',
      resourceName: props.domainName,
    });
    this.freeStorageAlarmMiB = props.freeStorageAlarmMiB ?? Math.floor(props.volumeSize.toMebibytes() * 0.2);

    const slowSearchLogGroup = new logs.LogGroup(this, 'SlowSearchLogs', { retention });
    const slowIndexLogGroup = new logs.LogGroup(this, 'SlowIndexLogs', { retention });
    const appLogGroup = new logs.LogGroup(this, 'AppLogs', { retention });
    // A native resource policy instead of the construct's custom resource: no extra Lambda to run.
    new logs.ResourcePolicy(this, 'LogDeliveryPolicy', {
      policyStatements: [
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('es.amazonaws.com')],
          actions: ['logs:PutLogEvents', 'logs:CreateLogStream'],
          resources: [slowSearchLogGroup, slowIndexLogGroup, appLogGroup].map((group) => group.logGroupArn),
          conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
        }),
      ],
    });

    this.domain = new opensearch.Domain(this, 'Domain', {
      domainName: props.domainName,
      version: props.engineVersion ?? opensearch.EngineVersion.OPENSEARCH_2_19,
      capacity: {
        dataNodes: instanceCount,
        dataNodeInstanceType: props.instanceType ?? 'r7g.large.search',
        multiAzWithStandbyEnabled: false,
      },
      ebs: { volumeSize: props.volumeSize.toGibibytes(), volumeType: ec2.EbsDeviceVolumeType.GP3 },
      ...(zoneCount > 1 && { zoneAwareness: { enabled: true, availabilityZoneCount: zoneCount } }),
      encryptionAtRest: { enabled: true },
      nodeToNodeEncryption: true,
      enforceHttps: true,
      tlsSecurityPolicy: opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
      ...(props.fineGrainedMasterUserArn !== undefined && {
        fineGrainedAccessControl: { masterUserArn: props.fineGrainedMasterUserArn },
      }),
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup,
        slowIndexLogEnabled: true,
        slowIndexLogGroup,
        appLogEnabled: true,
        appLogGroup,
      },
      suppressLogsResourcePolicy: true,
      ...(props.removalPolicy !== undefined && { removalPolicy: props.removalPolicy }),
    });
    this.endpointUrl = `https://${this.domain.domainEndpoint}`;

    // The access policy is set on the resource itself (the construct's `accessPolicies` would add a
    // custom resource); the fixed domain name keeps the ARN free of a reference to the domain.
    this.accessPolicy = new iam.PolicyDocument();
    if (props.adminPrincipalArn !== undefined) {
      this.accessPolicy.addStatements(
        new iam.PolicyStatement({
          sid: 'Admin',
          principals: [new iam.ArnPrincipal(props.adminPrincipalArn)],
          actions: ['es:ESHttp*'],
          resources: [`${this.domainArn}/*`],
        }),
      );
    }
    const cfnDomain = this.domain.node.defaultChild as opensearch.CfnDomain;
    cfnDomain.accessPolicies = this.accessPolicy;

    acknowledgeNagRule(
      this.domain,
      'AwsSolutions-OS1',
      'Public endpoint by design: the indexer runs outside a VPC (no NAT cost) and the access policy admits only named IAM principals signing with SigV4',
    );
    acknowledgeNagRule(
      this.domain,
      'AwsSolutions-OS3',
      'Access is limited by IAM principal in the access policy; an IP allow-list cannot describe Lambda callers',
    );
    acknowledgeNagRule(
      this.domain,
      'AwsSolutions-OS4',
      'Dedicated master nodes triple the cost of the small clusters this app creates by default; add them for large clusters',
    );
    if (zoneCount === 1) {
      acknowledgeNagRule(
        this.domain,
        'AwsSolutions-OS7',
        'A single data node cannot span zones; zone awareness is enabled whenever instanceCount is above 1',
      );
    }
  }

  /** Lets `grantee` index: an identity policy and a statement in the domain's access policy. */
  public grantIndexing(grantee: iam.IGrantable): void {
    grantIndexingActions(grantee, this.domainArn);
    this.accessPolicy.addStatements(
      new iam.PolicyStatement({
        principals: [grantee.grantPrincipal],
        actions: [...INDEXING_ACTIONS],
        resources: [`${this.domainArn}/*`],
      }),
    );
  }
}

/** Props of {@link ExistingSearchEndpoint}. */
export interface ExistingSearchEndpointProps {
  /** `https://` URL of the cluster. */
  readonly endpointUrl: string;
  /** @default 'sigv4' */
  readonly auth?: SearchAuth;
  /**
   * The domain's ARN, for the indexer's IAM policy and the cluster alarms.
   * @default - no IAM grant (only valid with `basic` or `none` auth) and no cluster alarms
   */
  readonly domainArn?: string;
  /**
   * `basic` auth: a Secrets Manager secret holding JSON `{"username": ..., "password": ...}`.
   * @default - no credentials
   */
  readonly basicAuthSecretName?: string;
  /** Free storage per node (MiB) below which indexing stops. @default 10240 */
  readonly freeStorageAlarmMiB?: number;
}

/**
 * An OpenSearch cluster this app does not own. Its access policy and role mappings stay the user's
 * job: the stack prints what to add.
 */
export class ExistingSearchEndpoint extends Construct implements ISearchTarget {
  public readonly endpointUrl: string;
  public readonly auth: SearchAuth;
  public readonly domain?: opensearch.IDomain;
  public readonly freeStorageAlarmMiB: number;
  public readonly credentialsEnvironment: Readonly<Record<string, string>>;
  private readonly domainArn?: string;

  constructor(scope: Construct, id: string, props: ExistingSearchEndpointProps) {
    super(scope, id);
    this.endpointUrl = props.endpointUrl.replace(/\/+$/, '');
    this.auth = props.auth ?? 'sigv4';
    this.freeStorageAlarmMiB = props.freeStorageAlarmMiB ?? 10_240;
    if (this.auth === 'sigv4' && props.domainArn === undefined) {
      throw new Error('an existing endpoint with sigv4 auth needs its domainArn');
    }
    if (this.auth === 'basic' && props.basicAuthSecretName === undefined) {
      throw new Error('an existing endpoint with basic auth needs basicAuthSecretName');
    }
    if (props.domainArn !== undefined) {
      this.domainArn = props.domainArn;
      this.domain = opensearch.Domain.fromDomainAttributes(this, 'Domain', {
        domainArn: props.domainArn,
        domainEndpoint: this.endpointUrl,
      });
    }
    // Dynamic references: the values are resolved by CloudFormation at deploy time and never appear
    // in the template or the cloud assembly. They do show in the function's (encrypted) settings.
    this.credentialsEnvironment =
      this.auth === 'basic' && props.basicAuthSecretName !== undefined
        ? {
            OPENSEARCH_USERNAME: SecretValue.secretsManager(props.basicAuthSecretName, {
              jsonField: 'username',
            }).unsafeUnwrap(),
            OPENSEARCH_PASSWORD: SecretValue.secretsManager(props.basicAuthSecretName, {
              jsonField: 'password',
            }).unsafeUnwrap(),
          }
        : {};
  }

  /** Lets `grantee` sign requests to the domain; its access policy is the owner's to change. */
  public grantIndexing(grantee: iam.IGrantable): void {
    if (this.auth !== 'sigv4' || this.domainArn === undefined) return;
    grantIndexingActions(grantee, this.domainArn);
  }
}
