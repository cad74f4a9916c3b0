--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: account; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.account (
    id integer NOT NULL,
    name character varying(200) NOT NULL,
    plan character varying(20) NOT NULL,
    limit_custom_blueprints integer NOT NULL,
    limit_connected_blueprints integer NOT NULL,
    limit_data_fields integer NOT NULL,
    limit_playbooks integer NOT NULL,
    webhook_timeout_s integer NOT NULL,
    allow_private_webhooks boolean NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: account_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.account_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: account_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.account_id_seq OWNED BY public.account.id;


--
-- Name: api_token; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_token (
    id integer NOT NULL,
    integration_id integer NOT NULL,
    name character varying(100) NOT NULL,
    token_hash character varying(64) NOT NULL,
    hint character varying(40) NOT NULL,
    managed boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    created_by character varying(100) NOT NULL,
    expires_at timestamp with time zone,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone
);


--
-- Name: api_token_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.api_token_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: api_token_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.api_token_id_seq OWNED BY public.api_token.id;


--
-- Name: app_user; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.app_user (
    id integer NOT NULL,
    account_id integer NOT NULL,
    login character varying(100) NOT NULL,
    name character varying(200) NOT NULL,
    role character varying(20) NOT NULL,
    can_manage boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_seen_at timestamp with time zone
);


--
-- Name: app_user_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.app_user_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: app_user_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.app_user_id_seq OWNED BY public.app_user.id;


--
-- Name: audit_entry; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_entry (
    id integer NOT NULL,
    account_id integer NOT NULL,
    at timestamp with time zone NOT NULL,
    actor character varying(100) NOT NULL,
    action character varying(60) NOT NULL,
    object_type character varying(40) NOT NULL,
    object_id integer,
    object_name character varying(200) NOT NULL,
    detail text NOT NULL
);


--
-- Name: audit_entry_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.audit_entry_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_entry_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.audit_entry_id_seq OWNED BY public.audit_entry.id;


--
-- Name: blueprint; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.blueprint (
    id integer NOT NULL,
    account_id integer NOT NULL,
    integration_id integer NOT NULL,
    name character varying(100) NOT NULL,
    description text NOT NULL,
    native boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    created_by character varying(100) NOT NULL,
    version integer NOT NULL
);


--
-- Name: blueprint_field; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.blueprint_field (
    id integer NOT NULL,
    blueprint_id integer NOT NULL,
    name character varying(100) NOT NULL,
    description text NOT NULL,
    mapping_required boolean NOT NULL,
    "position" integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: blueprint_field_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.blueprint_field_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: blueprint_field_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.blueprint_field_id_seq OWNED BY public.blueprint_field.id;


--
-- Name: blueprint_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.blueprint_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: blueprint_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.blueprint_id_seq OWNED BY public.blueprint.id;


--
-- Name: data_field; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.data_field (
    id integer NOT NULL,
    playbook_id integer NOT NULL,
    name character varying(100) NOT NULL,
    description text NOT NULL,
    default_value text NOT NULL,
    "position" integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    version integer NOT NULL
);


--
-- Name: data_field_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.data_field_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: data_field_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.data_field_id_seq OWNED BY public.data_field.id;


--
-- Name: delivery; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.delivery (
    id integer NOT NULL,
    webhook_id integer NOT NULL,
    callback_id character varying(40) NOT NULL,
    event_type character varying(60) NOT NULL,
    url character varying(1000) NOT NULL,
    attempted_at timestamp with time zone NOT NULL,
    success boolean NOT NULL,
    status_code integer,
    latency_ms integer,
    error text,
    request_headers text NOT NULL,
    request_body text NOT NULL,
    response_excerpt text NOT NULL,
    resend_of_id integer
);


--
-- Name: delivery_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.delivery_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: delivery_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.delivery_id_seq OWNED BY public.delivery.id;


--
-- Name: integration; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.integration (
    id integer NOT NULL,
    account_id integer NOT NULL,
    extension_key character varying(50) NOT NULL,
    enabled boolean NOT NULL,
    first_enabled_at timestamp with time zone NOT NULL,
    enabled_at timestamp with time zone NOT NULL,
    enabled_by character varying(100) NOT NULL
);


--
-- Name: integration_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.integration_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: integration_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.integration_id_seq OWNED BY public.integration.id;


--
-- Name: mapping; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.mapping (
    id integer NOT NULL,
    playbook_id integer NOT NULL,
    blueprint_field_id integer NOT NULL,
    data_field_id integer NOT NULL
);


--
-- Name: mapping_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.mapping_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: mapping_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.mapping_id_seq OWNED BY public.mapping.id;


--
-- Name: meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.meta (
    key character varying(64) NOT NULL,
    value character varying(200) NOT NULL
);


--
-- Name: playbook; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.playbook (
    id integer NOT NULL,
    account_id integer NOT NULL,
    name character varying(100) NOT NULL,
    description text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    created_by character varying(100) NOT NULL
);


--
-- Name: playbook_blueprint; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.playbook_blueprint (
    id integer NOT NULL,
    playbook_id integer NOT NULL,
    blueprint_id integer NOT NULL,
    connected_at timestamp with time zone NOT NULL
);


--
-- Name: playbook_blueprint_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.playbook_blueprint_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: playbook_blueprint_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.playbook_blueprint_id_seq OWNED BY public.playbook_blueprint.id;


--
-- Name: playbook_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.playbook_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: playbook_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.playbook_id_seq OWNED BY public.playbook.id;


--
-- Name: webhook; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook (
    id integer NOT NULL,
    integration_id integer NOT NULL,
    url character varying(1000) NOT NULL,
    sign_key character varying(500),
    event_types text NOT NULL,
    managed boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    created_by character varying(100) NOT NULL,
    verified boolean NOT NULL
);


--
-- Name: webhook_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.webhook_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: webhook_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.webhook_id_seq OWNED BY public.webhook.id;


--
-- Name: account id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account ALTER COLUMN id SET DEFAULT nextval('public.account_id_seq'::regclass);


--
-- Name: api_token id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_token ALTER COLUMN id SET DEFAULT nextval('public.api_token_id_seq'::regclass);


--
-- Name: app_user id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.app_user ALTER COLUMN id SET DEFAULT nextval('public.app_user_id_seq'::regclass);


--
-- Name: audit_entry id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_entry ALTER COLUMN id SET DEFAULT nextval('public.audit_entry_id_seq'::regclass);


--
-- Name: blueprint id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blueprint ALTER COLUMN id SET DEFAULT nextval('public.blueprint_id_seq'::regclass);


--
-- Name: blueprint_field id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blueprint_field ALTER COLUMN id SET DEFAULT nextval('public.blueprint_field_id_seq'::regclass);


--
-- Name: data_field id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.data_field ALTER COLUMN id SET DEFAULT nextval('public.data_field_id_seq'::regclass);


--
-- Name: delivery id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.delivery ALTER COLUMN id SET DEFAULT nextval('public.delivery_id_seq'::regclass);


--
-- Name: integration id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.integration ALTER COLUMN id SET DEFAULT nextval('public.integration_id_seq'::regclass);


--
-- Name: mapping id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mapping ALTER COLUMN id SET DEFAULT nextval('public.mapping_id_seq'::regclass);


--
-- Name: playbook id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.playbook ALTER COLUMN id SET DEFAULT nextval('public.playbook_id_seq'::regclass);


--
-- Name: playbook_blueprint id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.playbook_blueprint ALTER COLUMN id SET DEFAULT nextval('public.playbook_blueprint_id_seq'::regclass);


--
-- Name: webhook id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook ALTER COLUMN id SET DEFAULT nextval('public.webhook_id_seq'::regclass);


--
-- Data for Name: account; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.account VALUES (1, 'My account', 'Business', 10, 5, 300, 100, 10, false, '2026-03-02 09:30:00+00');


--
-- Data for Name: api_token; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.api_token VALUES (1, 2, 'Salesforce (managed)', 'b3f8d28f4caa9e295cde6c67e6fe285c26fca5c8d01ad4e36c2d0d987d0c652d', 'iadm_…QpdA', true, '2026-03-02 09:30:00+00', 'alice', NULL, NULL, NULL);
INSERT INTO public.api_token VALUES (2, 3, 'HubSpot (managed)', 'f826291a40a75473ee2a822a0b2b7ad234343cfb158eea8139f1eb7cabc92451', 'iadm_…pwcO', true, '2026-03-02 09:30:00+00', 'alice', NULL, NULL, NULL);
INSERT INTO public.api_token VALUES (3, 1, 'ERP sync', '3f26c2b864477b1116c5e882e503e415f3d790d820f266b3e31c47a156b5d350', 'iadm_…iYO3', false, '2026-03-02 09:40:00+00', 'alice', '2026-05-31 09:40:00+00', NULL, NULL);
INSERT INTO public.api_token VALUES (4, 1, 'Old script', 'da1a4ed53a8933fc9156e6147409a69af3bfebf67da95f360b253e2f21b23e96', 'iadm_…Oae6', false, '2026-03-02 09:40:00+00', 'alice', NULL, NULL, '2026-03-02 09:40:00+00');


--
-- Data for Name: app_user; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.app_user VALUES (1, 1, 'alice', 'Alice Ådmin', 'owner', true, '2026-03-02 09:30:00+00', '2026-03-02 09:30:00+00');
INSERT INTO public.app_user VALUES (2, 1, 'bob', 'Bob Viewer', 'member', false, '2026-03-02 09:30:00+00', NULL);
INSERT INTO public.app_user VALUES (3, 1, 'carol', 'Carol 管理', 'member', true, '2026-03-02 09:30:00+00', NULL);


--
-- Data for Name: audit_entry; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.audit_entry VALUES (1, 1, '2026-03-02 09:30:00+00', 'alice', 'account.create', 'account', 1, 'My account', 'plan Business; first user became owner');
INSERT INTO public.audit_entry VALUES (2, 1, '2026-03-02 09:30:00+00', 'alice', 'user.add', 'user', 2, 'bob', 'role member; permission no');
INSERT INTO public.audit_entry VALUES (3, 1, '2026-03-02 09:30:00+00', 'alice', 'user.add', 'user', 3, 'carol', 'role member; permission yes');
INSERT INTO public.audit_entry VALUES (4, 1, '2026-03-02 09:30:00+00', 'alice', 'extension.enable', 'integration', 1, 'Custom integration', 'first enable');
INSERT INTO public.audit_entry VALUES (5, 1, '2026-03-02 09:30:00+00', 'alice', 'extension.enable', 'integration', 2, 'Salesforce', 'first enable');
INSERT INTO public.audit_entry VALUES (6, 1, '2026-03-02 09:30:00+00', 'alice', 'extension.enable', 'integration', 3, 'HubSpot', 'first enable');
INSERT INTO public.audit_entry VALUES (7, 1, '2026-03-02 09:30:00+00', 'alice', 'extension.disable', 'integration', 3, 'HubSpot', 'paused; nothing deleted');
INSERT INTO public.audit_entry VALUES (8, 1, '2026-03-02 09:35:00+00', 'alice', 'blueprint.create', 'blueprint', 3, 'Order data', '');
INSERT INTO public.audit_entry VALUES (9, 1, '2026-03-02 09:35:00+00', 'alice', 'blueprint.create', 'blueprint', 4, '[bold]Ünïcødé[/] 名前 🚀', '');
INSERT INTO public.audit_entry VALUES (10, 1, '2026-03-02 09:35:00+00', 'alice', 'field.create', 'blueprint_field', 14, 'Order data / Order number', 'mapping required');
INSERT INTO public.audit_entry VALUES (11, 1, '2026-03-02 09:35:00+00', 'alice', 'field.create', 'blueprint_field', 15, 'Order data / Amount', '');
INSERT INTO public.audit_entry VALUES (12, 1, '2026-03-02 09:35:00+00', 'alice', 'field.create', 'blueprint_field', 16, '[bold]Ünïcødé[/] 名前 🚀 / ''; DROP TABLE blueprint; --', '');
INSERT INTO public.audit_entry VALUES (13, 1, '2026-03-02 09:35:00+00', 'alice', 'field.update', 'blueprint_field', 14, 'Order data / Order number', 'mapping required: yes');
INSERT INTO public.audit_entry VALUES (14, 1, '2026-03-02 09:40:00+00', 'alice', 'token.generate', 'api_token', 3, 'ERP sync', 'hint iadm_…iYO3; expires in 90 days');
INSERT INTO public.audit_entry VALUES (15, 1, '2026-03-02 09:40:00+00', 'alice', 'token.generate', 'api_token', 4, 'Old script', 'hint iadm_…Oae6; never expires');
INSERT INTO public.audit_entry VALUES (16, 1, '2026-03-02 09:40:00+00', 'alice', 'token.revoke', 'api_token', 4, 'Old script', 'hint iadm_…Oae6; integration Custom integration');
INSERT INTO public.audit_entry VALUES (17, 1, '2026-03-02 09:50:00+00', 'alice', 'playbook.create', 'playbook', 1, 'Sales contract', '');
INSERT INTO public.audit_entry VALUES (18, 1, '2026-03-02 09:50:00+00', 'alice', 'data_field.create', 'data_field', 1, 'Sales contract / Order no.', '');
INSERT INTO public.audit_entry VALUES (19, 1, '2026-03-02 09:50:00+00', 'alice', 'data_field.create', 'data_field', 2, 'Sales contract / Customer', '');
INSERT INTO public.audit_entry VALUES (20, 1, '2026-03-02 09:50:00+00', 'alice', 'playbook.connect', 'playbook', 1, 'Sales contract', 'connected blueprint ''Order data''');
INSERT INTO public.audit_entry VALUES (21, 1, '2026-03-02 09:50:00+00', 'alice', 'mapping.create', 'mapping', 1, 'Sales contract: Order data / Order number', 'mapped to ''Order no.''');
INSERT INTO public.audit_entry VALUES (22, 1, '2026-03-02 09:50:00+00', 'alice', 'playbook.create', 'playbook', 2, 'Empty playbook', '');


--
-- Data for Name: blueprint; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.blueprint VALUES (1, 1, 2, 'Salesforce fields', 'Default fields synced from Salesforce', true, '2026-03-02 09:30:00+00', 'alice', 1);
INSERT INTO public.blueprint VALUES (2, 1, 3, 'HubSpot fields', 'Default fields synced from HubSpot', true, '2026-03-02 09:30:00+00', 'alice', 1);
INSERT INTO public.blueprint VALUES (3, 1, 1, 'Order data', 'Orders from the ERP
line two', false, '2026-03-02 09:35:00+00', 'alice', 1);
INSERT INTO public.blueprint VALUES (4, 1, 1, '[bold]Ünïcødé[/] 名前 🚀', 'it''s "quoted"', false, '2026-03-02 09:35:00+00', 'alice', 1);


--
-- Data for Name: blueprint_field; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.blueprint_field VALUES (1, 1, 'Opportunity ID', 'The Salesforce opportunity the contract belongs to', true, 0, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (2, 1, 'Opportunity name', 'Name of the opportunity', false, 1, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (3, 1, 'Account name', 'The customer''s account in Salesforce', true, 2, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (4, 1, 'Amount', 'Opportunity amount', false, 3, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (5, 1, 'Close date', 'Expected close date', false, 4, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (6, 1, 'Owner email', 'Email of the opportunity owner', false, 5, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (7, 1, 'Stage', 'Opportunity stage', false, 6, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (8, 2, 'Deal ID', 'The HubSpot deal record', true, 0, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (9, 2, 'Deal name', 'Name of the deal', false, 1, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (10, 2, 'Company name', 'Associated company', true, 2, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (11, 2, 'Deal amount', 'Amount of the deal', false, 3, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (12, 2, 'Contact email', 'Primary contact''s email', false, 4, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (13, 2, 'Pipeline stage', 'Stage of the deal in its pipeline', false, 5, '2026-03-02 09:30:00+00', 1);
INSERT INTO public.blueprint_field VALUES (15, 3, 'Amount', 'in €', false, 2, '2026-03-02 09:35:00+00', 1);
INSERT INTO public.blueprint_field VALUES (16, 4, '''; DROP TABLE blueprint; --', '', false, 1, '2026-03-02 09:35:00+00', 1);
INSERT INTO public.blueprint_field VALUES (14, 3, 'Order number', 'ERP key', true, 1, '2026-03-02 09:35:00+00', 2);


--
-- Data for Name: data_field; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.data_field VALUES (1, 1, 'Order no.', '', '0', 1, '2026-03-02 09:50:00+00', 1);
INSERT INTO public.data_field VALUES (2, 1, 'Customer', 'Legal name', '', 2, '2026-03-02 09:50:00+00', 1);


--
-- Data for Name: delivery; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.delivery VALUES (1, 3, '0000000000000000000000000000000000000000', 'contract:sign', 'https://hooks.example.com/contracts?team=ops', '2026-03-02 09:45:00+00', true, 200, 40, NULL, '{"content-type": "application/json"}', '{"callback_id": "...", "events": []}', 'ok', NULL);
INSERT INTO public.delivery VALUES (2, 3, '0000000000000000000000000000000000000001', 'contract:sign', 'https://hooks.example.com/contracts?team=ops', '2026-03-02 09:45:01+00', false, 503, 41, 'status 503 Service Unavailable', '{"content-type": "application/json"}', '{"callback_id": "...", "events": []}', '', NULL);
INSERT INTO public.delivery VALUES (3, 3, '0000000000000000000000000000000000000002', 'contract:sign', 'https://hooks.example.com/contracts?team=ops', '2026-03-02 09:45:02+00', false, NULL, 42, 'timeout', '{"content-type": "application/json"}', '{"callback_id": "...", "events": []}', '', NULL);


--
-- Data for Name: integration; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.integration VALUES (1, 1, 'custom', true, '2026-03-02 09:30:00+00', '2026-03-02 09:30:00+00', 'alice');
INSERT INTO public.integration VALUES (2, 1, 'salesforce', true, '2026-03-02 09:30:00+00', '2026-03-02 09:30:00+00', 'alice');
INSERT INTO public.integration VALUES (3, 1, 'hubspot', false, '2026-03-02 09:30:00+00', '2026-03-02 09:30:00+00', 'alice');


--
-- Data for Name: mapping; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.mapping VALUES (1, 1, 14, 1);


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('schema_version', '1');


--
-- Data for Name: playbook; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.playbook VALUES (1, 1, 'Sales contract', 'Default playbook', '2026-03-02 09:50:00+00', 'alice');
INSERT INTO public.playbook VALUES (2, 1, 'Empty playbook', '', '2026-03-02 09:50:00+00', 'alice');


--
-- Data for Name: playbook_blueprint; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.playbook_blueprint VALUES (1, 1, 3, '2026-03-02 09:50:00+00');


--
-- Data for Name: webhook; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.webhook VALUES (1, 2, 'https://hooks.integrations.example/salesforce/events', NULL, 'contract:publish,contract:sign,contract:decline,data_field:update', true, '2026-03-02 09:30:00+00', 'alice', true);
INSERT INTO public.webhook VALUES (2, 3, 'https://hooks.integrations.example/hubspot/events', NULL, 'contract:publish,contract:sign,contract:decline,data_field:update', true, '2026-03-02 09:30:00+00', 'alice', true);
INSERT INTO public.webhook VALUES (3, 1, 'https://hooks.example.com/contracts?team=ops', 'v1-typed-signing-key-0123456789', 'contract:sign,contract:publish', false, '2026-03-02 09:45:00+00', 'alice', true);


--
-- Name: account_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.account_id_seq', 1, true);


--
-- Name: api_token_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.api_token_id_seq', 4, true);


--
-- Name: app_user_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.app_user_id_seq', 3, true);


--
-- Name: audit_entry_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_entry_id_seq', 22, true);


--
-- Name: blueprint_field_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.blueprint_field_id_seq', 16, true);


--
-- Name: blueprint_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.blueprint_id_seq', 4, true);


--
-- Name: data_field_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.data_field_id_seq', 2, true);


--
-- Name: delivery_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.delivery_id_seq', 3, true);


--
-- Name: integration_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.integration_id_seq', 3, true);


--
-- Name: mapping_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.mapping_id_seq', 1, true);


--
-- Name: playbook_blueprint_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.playbook_blueprint_id_seq', 1, true);


--
-- Name: playbook_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.playbook_id_seq', 2, true);


--
-- Name: webhook_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.webhook_id_seq', 3, true);


--
-- Name: account account_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account
    ADD CONSTRAINT account_pkey PRIMARY KEY (id);


--
-- Name: api_token api_token_integration_id_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_token
    ADD CONSTRAINT api_token_integration_id_name_key UNIQUE (integration_id, name);


--
-- Name: api_token api_token_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_token
    ADD CONSTRAINT api_token_pkey PRIMARY KEY (id);


--
-- Name: api_token api_token_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_token
    ADD CONSTRAINT api_token_token_hash_key UNIQUE (token_hash);


--
-- Name: app_user app_user_login_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.app_user
    ADD CONSTRAINT app_user_login_key UNIQUE (login);


--
-- Name: app_user app_user_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.app_user
    ADD CONSTRAINT app_user_pkey PRIMARY KEY (id);


--
-- Name: audit_entry audit_entry_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_entry
    ADD CONSTRAINT audit_entry_pkey PRIMARY KEY (id);


--
-- Name: blueprint blueprint_account_id_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blueprint
    ADD CONSTRAINT blueprint_account_id_name_key UNIQUE (account_id, name);


--
-- Name: blueprint_field blueprint_field_blueprint_id_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blueprint_field
    ADD CONSTRAINT blueprint_field_blueprint_id_name_key UNIQUE (blueprint_id, name);


--
-- Name: blueprint_field blueprint_field_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blueprint_field
    ADD CONSTRAINT blueprint_field_pkey PRIMARY KEY (id);


--
-- Name: blueprint blueprint_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blueprint
    ADD CONSTRAINT blueprint_pkey PRIMARY KEY (id);


--
-- Name: data_field data_field_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.data_field
    ADD CONSTRAINT data_field_pkey PRIMARY KEY (id);


--
-- Name: data_field data_field_playbook_id_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.data_field
    ADD CONSTRAINT data_field_playbook_id_name_key UNIQUE (playbook_id, name);


--
-- Name: delivery delivery_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.delivery
    ADD CONSTRAINT delivery_pkey PRIMARY KEY (id);


--
-- Name: integration integration_account_id_extension_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.integration
    ADD CONSTRAINT integration_account_id_extension_key_key UNIQUE (account_id, extension_key);


--
-- Name: integration integration_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.integration
    ADD CONSTRAINT integration_pkey PRIMARY KEY (id);


--
-- Name: mapping mapping_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mapping
    ADD CONSTRAINT mapping_pkey PRIMARY KEY (id);


--
-- Name: mapping mapping_playbook_id_blueprint_field_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mapping
    ADD CONSTRAINT mapping_playbook_id_blueprint_field_id_key UNIQUE (playbook_id, blueprint_field_id);


--
-- Name: meta meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.meta
    ADD CONSTRAINT meta_pkey PRIMARY KEY (key);


--
-- Name: playbook playbook_account_id_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.playbook
    ADD CONSTRAINT playbook_account_id_name_key UNIQUE (account_id, name);


--
-- Name: playbook_blueprint playbook_blueprint_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.playbook_blueprint
    ADD CONSTRAINT playbook_blueprint_pkey PRIMARY KEY (id);


--
-- Name: playbook_blueprint playbook_blueprint_playbook_id_blueprint_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.playbook_blueprint
    ADD CONSTRAINT playbook_blueprint_playbook_id_blueprint_id_key UNIQUE (playbook_id, blueprint_id);


--
-- Name: playbook playbook_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.playbook
    ADD CONSTRAINT playbook_pkey PRIMARY KEY (id);


--
-- Name: webhook webhook_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook
    ADD CONSTRAINT webhook_pkey PRIMARY KEY (id);


--
-- Name: ix_api_token_integration_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_api_token_integration_id ON public.api_token USING btree (integration_id);


--
-- Name: ix_app_user_account_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_app_user_account_id ON public.app_user USING btree (account_id);


--
-- Name: ix_audit_account_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_audit_account_time ON public.audit_entry USING btree (account_id, id);


--
-- Name: ix_blueprint_account_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_blueprint_account_id ON public.blueprint USING btree (account_id);


--
-- Name: ix_blueprint_field_blueprint_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_blueprint_field_blueprint_id ON public.blueprint_field USING btree (blueprint_id);


--
-- Name: ix_blueprint_integration_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_blueprint_integration_id ON public.blueprint USING btree (integration_id);


--
-- Name: ix_data_field_playbook_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_data_field_playbook_id ON public.data_field USING btree (playbook_id);


--
-- Name: ix_delivery_callback_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_delivery_callback_id ON public.delivery USING btree (callback_id);


--
-- Name: ix_delivery_webhook_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_delivery_webhook_time ON public.delivery USING btree (webhook_id, attempted_at);


--
-- Name: ix_integration_account_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_integration_account_id ON public.integration USING btree (account_id);


--
-- Name: ix_mapping_blueprint_field_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_mapping_blueprint_field_id ON public.mapping USING btree (blueprint_field_id);


--
-- Name: ix_mapping_data_field_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_mapping_data_field_id ON public.mapping USING btree (data_field_id);


--
-- Name: ix_mapping_playbook_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_mapping_playbook_id ON public.mapping USING btree (playbook_id);


--
-- Name: ix_playbook_account_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_playbook_account_id ON public.playbook USING btree (account_id);


--
-- Name: ix_playbook_blueprint_blueprint_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_playbook_blueprint_blueprint_id ON public.playbook_blueprint USING btree (blueprint_id);


--
-- Name: ix_playbook_blueprint_playbook_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_playbook_blueprint_playbook_id ON public.playbook_blueprint USING btree (playbook_id);


--
-- Name: ix_webhook_integration_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_integration_id ON public.webhook USING btree (integration_id);


--
-- Name: api_token api_token_integration_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_token
    ADD CONSTRAINT api_token_integration_id_fkey FOREIGN KEY (integration_id) REFERENCES public.integration(id) ON DELETE CASCADE;


--
-- Name: app_user app_user_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.app_user
    ADD CONSTRAINT app_user_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: audit_entry audit_entry_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_entry
    ADD CONSTRAINT audit_entry_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: blueprint blueprint_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blueprint
    ADD CONSTRAINT blueprint_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: blueprint_field blueprint_field_blueprint_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blueprint_field
    ADD CONSTRAINT blueprint_field_blueprint_id_fkey FOREIGN KEY (blueprint_id) REFERENCES public.blueprint(id) ON DELETE CASCADE;


--
-- Name: blueprint blueprint_integration_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.blueprint
    ADD CONSTRAINT blueprint_integration_id_fkey FOREIGN KEY (integration_id) REFERENCES public.integration(id) ON DELETE CASCADE;


--
-- Name: data_field data_field_playbook_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.data_field
    ADD CONSTRAINT data_field_playbook_id_fkey FOREIGN KEY (playbook_id) REFERENCES public.playbook(id) ON DELETE CASCADE;


--
-- Name: delivery delivery_webhook_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.delivery
    ADD CONSTRAINT delivery_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES public.webhook(id) ON DELETE CASCADE;


--
-- Name: integration integration_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.integration
    ADD CONSTRAINT integration_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: mapping mapping_blueprint_field_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mapping
    ADD CONSTRAINT mapping_blueprint_field_id_fkey FOREIGN KEY (blueprint_field_id) REFERENCES public.blueprint_field(id) ON DELETE CASCADE;


--
-- Name: mapping mapping_data_field_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mapping
    ADD CONSTRAINT mapping_data_field_id_fkey FOREIGN KEY (data_field_id) REFERENCES public.data_field(id) ON DELETE CASCADE;


--
-- Name: mapping mapping_playbook_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mapping
    ADD CONSTRAINT mapping_playbook_id_fkey FOREIGN KEY (playbook_id) REFERENCES public.playbook(id) ON DELETE CASCADE;


--
-- Name: playbook playbook_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.playbook
    ADD CONSTRAINT playbook_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: playbook_blueprint playbook_blueprint_blueprint_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.playbook_blueprint
    ADD CONSTRAINT playbook_blueprint_blueprint_id_fkey FOREIGN KEY (blueprint_id) REFERENCES public.blueprint(id) ON DELETE RESTRICT;


--
-- Name: playbook_blueprint playbook_blueprint_playbook_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.playbook_blueprint
    ADD CONSTRAINT playbook_blueprint_playbook_id_fkey FOREIGN KEY (playbook_id) REFERENCES public.playbook(id) ON DELETE CASCADE;


--
-- Name: webhook webhook_integration_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook
    ADD CONSTRAINT webhook_integration_id_fkey FOREIGN KEY (integration_id) REFERENCES public.integration(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


