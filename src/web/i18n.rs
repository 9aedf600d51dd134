//! Words of the web pages in Ukrainian, English and Spanish. Data texts come from the database
//! with their own language; these are only the page's own labels. A page never mixes languages
//! silently: a data text served in a fallback language is marked with its `lang`.

use crate::models::lang::Lang;

/// Declares the messages and their three wordings (uk, en, es).
macro_rules! messages {
    ($($key:ident => ($uk:literal, $en:literal, $es:literal)),+ $(,)?) => {
        /// A label of the web pages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Msg { $($key),+ }

        /// The wording of `msg` in `lang`.
        pub fn t(lang: Lang, msg: Msg) -> &'static str {
            match msg {
                $(Msg::$key => match lang {
                    Lang::Uk => $uk,
                    Lang::En => $en,
                    Lang::Es => $es,
                }),+
            }
        }
    };
}

messages! {
    SiteName => ("Відкрите врядування Хмельницького", "Khmelnytskyi open government", "Gobierno abierto de Khmelnytskyi"),
    SkipToContent => ("Перейти до змісту", "Skip to content", "Ir al contenido"),
    MainNavigation => ("Основна навігація", "Main navigation", "Navegación principal"),
    LanguageNavigation => ("Мова", "Language", "Idioma"),
    NavPlan => ("План дій", "Action plan", "Plan de acción"),
    PlanShort => ("План", "Plan", "Plan"),
    NavRegistries => ("Реєстри", "Registries", "Registros"),
    NavApiDocs => ("Документація API", "API documentation", "Documentación de la API"),
    ThisPageAsData => ("Ця сторінка як дані", "This page as data", "Esta página como datos"),
    TryIt => ("Спробуйте в терміналі", "Try it in a terminal", "Pruébelo en una terminal"),
    Unknown => ("невідомо", "unknown", "desconocido"),
    Classified => ("класифікація проєкту", "the project's classification", "clasificación del proyecto"),
    SummaryWording => ("переказ проєкту", "the project's summary", "resumen del proyecto"),
    ProjectWording => ("текст проєкту", "the project's wording", "redacción del proyecto"),
    Occurred => ("Подія", "Event", "Hecho"),
    Reported => ("повідомлено", "reported", "informado"),
    InLanguage => ("мовою", "in", "en"),
    Source => ("джерело", "source", "fuente"),
    Sources => ("Джерела", "Sources", "Fuentes"),
    FooterData => (
        "Дані: план дій OGP Local Хмельницького та геопортальні реєстри міста. Кожен факт посилається на своє джерело; невідоме позначено як невідоме.",
        "Data: the OGP Local action plan of Khmelnytskyi and the city's geoportal registries. Every fact links to its source; what is unknown is shown as unknown.",
        "Datos: el plan de acción OGP Local de Khmelnytskyi y los registros del geoportal de la ciudad. Cada dato enlaza con su fuente; lo desconocido se muestra como desconocido."
    ),
    PlanPeriod => ("Період плану", "Plan period", "Periodo del plan"),
    Submitted => ("Подано", "Submitted", "Presentado"),
    Ends => ("Завершення", "Ends", "Termina"),
    LocallyApproved => ("Затверджено на місцевому рівні", "Locally approved", "Aprobado localmente"),
    Member => ("Учасник OGP", "OGP member", "Miembro de OGP"),
    LeadInstitutions => ("Відповідальні установи", "Lead institutions", "Instituciones responsables"),
    CoCreation => ("Спільне творення", "Co-creation", "Co-creación"),
    ParticipantGroups => ("Групи учасників", "Participant groups", "Grupos participantes"),
    PublicMeetings => ("Публічні зустрічі", "Public meetings", "Reuniones públicas"),
    Invitations => ("Запрошення", "Invitations", "Invitaciones"),
    Spaces => ("Майданчики спільного творення", "Co-creation spaces", "Espacios de co-creación"),
    Endorsements => ("Підтримка громадськості", "Endorsements", "Respaldos"),
    Commitments => ("Зобов'язання", "Commitments", "Compromisos"),
    Commitment => ("Зобов'язання", "Commitment", "Compromiso"),
    Progress => ("Поступ", "Progress", "Avance"),
    ProgressOfMilestones => ("Поступ за етапами", "Progress by milestones", "Avance por hitos"),
    Milestones => ("Етапи", "Milestones", "Hitos"),
    Milestone => ("Етап", "Milestone", "Hito"),
    StatusComplete => ("виконано", "complete", "completado"),
    StatusInProgress => ("виконується", "in progress", "en curso"),
    StatusNotStarted => ("не розпочато", "not started", "no iniciado"),
    StatusUnknown => ("статус невідомий", "status unknown", "estado desconocido"),
    Status => ("Статус", "Status", "Estado"),
    Due => ("Термін", "Due", "Plazo"),
    Of => ("з", "of", "de"),
    NoMilestones => ("Етапів немає", "No milestones", "Sin hitos"),
    Timeline => ("Хронологія", "Timeline", "Cronología"),
    TimelineDescription => (
        "Період плану, періоди зобов'язань, терміни етапів і датовані звіти про поступ; сьогоднішній день позначено лінією. Події без відомої дати перелічено нижче.",
        "The plan period, commitment periods, milestone due dates and dated progress reports; today is marked with a line. Events without a known date are listed below.",
        "El periodo del plan, los periodos de los compromisos, los plazos de los hitos y los informes de avance con fecha; el día de hoy está marcado con una línea. Los eventos sin fecha conocida se enumeran debajo."
    ),
    TimelineAsList => ("Хронологія списком", "Timeline as a list", "Cronología como lista"),
    Today => ("Сьогодні", "Today", "Hoy"),
    UndatedEvents => ("Без відомої дати", "Without a known date", "Sin fecha conocida"),
    ProgressReport => ("Звіт про поступ", "Progress report", "Informe de avance"),
    Assessments => ("Оцінювання", "Assessments", "Evaluaciones"),
    Assessment => ("Оцінювання", "Assessment", "Evaluación"),
    ProgressUpdates => ("Звіти про поступ", "Progress reports", "Informes de avance"),
    OgpValues => ("Цінності OGP", "OGP values", "Valores de OGP"),
    Problem => ("Проблема", "Problem", "Problema"),
    Action => ("Дія", "Action", "Acción"),
    Ambition => ("Амбіція", "Ambition", "Ambición"),
    StrategicGoal => ("Стратегічна ціль", "Strategic goal", "Objetivo estratégico"),
    Period => ("Період", "Period", "Periodo"),
    Institutions => ("Установи", "Institutions", "Instituciones"),
    Institution => ("Установа", "Institution", "Institución"),
    Role => ("Роль", "Role", "Rol"),
    ShortName => ("Скорочена назва", "Short name", "Nombre corto"),
    Kind => ("Тип", "Kind", "Tipo"),
    Homepage => ("Вебсайт", "Website", "Sitio web"),
    Edrpou => ("Код ЄДРПОУ", "EDRPOU code", "Código EDRPOU"),
    Involvement => ("Участь", "Involvement", "Participación"),
    InThePlan => ("у плані", "in the plan", "en el plan"),
    Registries => ("Реєстри", "Registries", "Registros"),
    RegistriesIntro => (
        "Набори даних міського геопорталу з паспортом, схемою і записами. Кожен можна переглянути, відфільтрувати, показати на мапі та завантажити.",
        "Datasets of the city's geoportal with a passport, a schema and items. Each can be browsed, filtered, mapped and downloaded.",
        "Conjuntos de datos del geoportal de la ciudad con pasaporte, esquema y elementos. Cada uno se puede consultar, filtrar, ver en el mapa y descargar."
    ),
    Title => ("Назва", "Title", "Título"),
    Items => ("Записи", "Items", "Elementos"),
    Geometry => ("Геометрія", "Geometry", "Geometría"),
    License => ("Ліцензія", "Licence", "Licencia"),
    UpdateFrequency => ("Частота оновлення", "Update frequency", "Frecuencia de actualización"),
    Keywords => ("Ключові слова", "Keywords", "Palabras clave"),
    Purpose => ("Призначення", "Purpose", "Finalidad"),
    Publisher => ("Розпорядник", "Publisher", "Publicador"),
    Contact => ("Контакт", "Contact", "Contacto"),
    Modified => ("Змінено", "Modified", "Modificado"),
    Release => ("Випуск", "Release", "Versión"),
    RelatedCommitment => ("Пов'язане зобов'язання", "Related commitment", "Compromiso relacionado"),
    SampleData => ("Зразкові дані", "Sample data", "Datos de muestra"),
    RealData => ("Реальні дані", "Real data", "Datos reales"),
    SampleWarning => (
        "Це згенеровані зразкові дані, а не справжні записи міста.",
        "These are generated sample data, not real records of the city.",
        "Estos son datos de muestra generados, no registros reales de la ciudad."
    ),
    GeometryNone => ("немає", "none", "ninguna"),
    GeometryPoint => ("точки", "points", "puntos"),
    GeometryLine => ("лінії", "lines", "líneas"),
    GeometryPolygon => ("полігони", "polygons", "polígonos"),
    Filter => ("Фільтр", "Filter", "Filtro"),
    Search => ("Пошук", "Search", "Buscar"),
    SearchHint => ("усі слова мають бути в тексті запису", "every word must occur in the item's text", "todas las palabras deben aparecer en el texto del elemento"),
    MoreFilters => ("Фільтри за полями", "Filters by field", "Filtros por campo"),
    From => ("від", "from", "desde"),
    To => ("до", "to", "hasta"),
    Contains => ("містить", "contains", "contiene"),
    Any => ("будь-яке", "any", "cualquiera"),
    Yes => ("так", "yes", "sí"),
    No => ("ні", "no", "no"),
    PageSize => ("Записів на сторінці", "Items per page", "Elementos por página"),
    Apply => ("Застосувати", "Apply", "Aplicar"),
    Reset => ("Скинути", "Reset", "Restablecer"),
    Matching => ("Знайдено записів", "Matching items", "Elementos encontrados"),
    AtLeast => ("щонайменше", "at least", "al menos"),
    NoItems => ("Немає записів, що відповідають фільтру.", "No items match the filter.", "Ningún elemento coincide con el filtro."),
    NextPage => ("Наступна сторінка", "Next page", "Página siguiente"),
    FirstPage => ("Перша сторінка", "First page", "Primera página"),
    SortAscending => ("сортувати за зростанням", "sort ascending", "ordenar ascendente"),
    SortDescending => ("сортувати за спаданням", "sort descending", "ordenar descendente"),
    ItemsTableCaption => ("Записи реєстру", "Items of the registry", "Elementos del registro"),
    Download => ("Завантажити", "Download", "Descargar"),
    DownloadCsv => ("CSV", "CSV", "CSV"),
    DownloadExcel => ("CSV для Excel (BOM, крапка з комою, підписи)", "CSV for Excel (BOM, semicolons, labels)", "CSV para Excel (BOM, punto y coma, etiquetas)"),
    DownloadGeoJson => ("GeoJSON", "GeoJSON", "GeoJSON"),
    DownloadNdJson => ("NDJSON", "NDJSON", "NDJSON"),
    DownloadsFilteredNote => (
        "Завантаження містять усі записи, що відповідають фільтру, а не лише цю сторінку.",
        "Downloads hold every item that matches the filter, not only this page.",
        "Las descargas contienen todos los elementos que coinciden con el filtro, no solo esta página."
    ),
    Map => ("Мапа", "Map", "Mapa"),
    MapOfPage => ("Мапа записів цієї сторінки", "Map of the items on this page", "Mapa de los elementos de esta página"),
    MapNoScript => ("Для мапи потрібен JavaScript; таблиця і завантаження працюють без нього.", "The map needs JavaScript; the table and downloads work without it.", "El mapa necesita JavaScript; la tabla y las descargas funcionan sin él."),
    MapNoGeometry => ("Жоден запис на цій сторінці не має розташування.", "No item on this page has a location.", "Ningún elemento de esta página tiene ubicación."),
    MapTilesOff => ("Фонову мапу вимкнено; показано лише записи.", "Background map tiles are off; only the items are drawn.", "El mapa de fondo está desactivado; solo se dibujan los elementos."),
    Schema => ("Поля", "Fields", "Campos"),
    FieldName => ("Поле", "Field", "Campo"),
    FieldType => ("Тип", "Type", "Tipo"),
    Description => ("Опис", "Description", "Descripción"),
    ErrorTitle => ("Помилка", "Error", "Error"),
    NotFoundTitle => ("Сторінку не знайдено", "Page not found", "Página no encontrada"),
    BadRequestTitle => ("Неправильний запит", "Bad request", "Solicitud incorrecta"),
    UnavailableTitle => ("Тимчасово недоступно", "Temporarily unavailable", "No disponible temporalmente"),
    BackHome => ("На головну", "Back to the plan", "Volver al plan"),
    OpenInApi => ("Відкрити в API", "Open in the API", "Abrir en la API"),
}

/// How a language names itself (for the language switch).
pub fn endonym(lang: Lang) -> &'static str {
    match lang {
        Lang::Uk => "Українська",
        Lang::En => "English",
        Lang::Es => "Español",
    }
}

/// Words for the stored codes of the vocabularies (roles, kinds, OGP values, statuses); a code
/// without wording is shown as the code, never guessed.
pub fn code_label(lang: Lang, code: &str) -> String {
    let words: Option<(&str, &str, &str)> = match code {
        "lead" => Some(("відповідальна установа", "lead", "responsable")),
        "supporting" => Some(("підтримка", "supporting", "apoyo")),
        "involved" => Some(("залучена", "involved", "involucrada")),
        "coordinator" => Some(("координатор", "coordinator", "coordinador")),
        "monitoring_body" => Some((
            "моніторинговий орган",
            "monitoring body",
            "órgano de seguimiento",
        )),
        "funder" => Some(("фінансування", "funder", "financiador")),
        "contractor" => Some(("підрядник", "contractor", "contratista")),
        "co_creation_participant" => Some((
            "учасник спільного творення",
            "co-creation participant",
            "participante en la co-creación",
        )),
        "access_to_information" => Some((
            "доступ до інформації",
            "access to information",
            "acceso a la información",
        )),
        "civic_participation" => Some((
            "громадська участь",
            "civic participation",
            "participación cívica",
        )),
        "public_accountability" => Some((
            "публічна підзвітність",
            "public accountability",
            "rendición de cuentas",
        )),
        "technology_and_innovation" => Some((
            "технології та інновації",
            "technology and innovation",
            "tecnología e innovación",
        )),
        "more_than" => Some(("понад", "more than", "más de")),
        "complete" => Some(("виконано", "complete", "completado")),
        "in_progress" => Some(("виконується", "in progress", "en curso")),
        "not_started" => Some(("не розпочато", "not started", "no iniciado")),
        "executive_body" => Some(("виконавчий орган", "executive body", "órgano ejecutivo")),
        "communal_enterprise" => Some((
            "комунальне підприємство",
            "communal enterprise",
            "empresa comunal",
        )),
        "municipal_institution" => Some((
            "комунальна установа",
            "municipal institution",
            "institución municipal",
        )),
        "city_council" => Some(("міська рада", "city council", "ayuntamiento")),
        "executive_committee" => Some((
            "виконавчий комітет",
            "executive committee",
            "comité ejecutivo",
        )),
        "cso" => Some((
            "громадська організація",
            "civil society organisation",
            "organización de la sociedad civil",
        )),
        "academia" => Some(("заклад вищої освіти", "academia", "academia")),
        "international_org" => Some((
            "міжнародна організація",
            "international organisation",
            "organización internacional",
        )),
        "private_company" => Some(("приватна компанія", "private company", "empresa privada")),
        "library" => Some(("бібліотека", "library", "biblioteca")),
        "working_group" => Some(("робоча група", "working group", "grupo de trabajo")),
        "donor_programme" => Some((
            "донорська програма",
            "donor programme",
            "programa de donantes",
        )),
        _ => None,
    };
    match words {
        Some((uk, en, es)) => match lang {
            Lang::Uk => uk,
            Lang::En => en,
            Lang::Es => es,
        }
        .to_owned(),
        None => code.replace('_', " "),
    }
}
